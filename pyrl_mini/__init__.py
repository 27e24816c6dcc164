"""pyrl_mini: why policy-gradient training of recurrent networks collapses, and what fixes it."""

from .config import NetworkSettings, SettingsError, TaskSettings, TrainSettings
from .risk import kappa_transform

__version__ = "0.1.0"

__all__ = ["NetworkSettings", "SettingsError", "TaskSettings", "TrainSettings",
           "kappa_transform", "__version__"]
