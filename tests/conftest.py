import torch

# One thread: the machine has 2 cores and tests run beside other work; results do not depend on it.
torch.set_num_threads(1)
