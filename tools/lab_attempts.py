"""Try notebook 02's exercises in JupyterLab (headless Chromium) as a student would: Run All,
then replace an exercise cell's stub with an attempt, run it and its check cell, read the
one-line verdict. One wrong and one right attempt per exercise.

Usage: .venv/bin/python tools/lab_attempts.py   (needs /usr/bin/chromium, as tests/browser)
Prints the check cell's line after each attempt; the issue notes quote them.
"""
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
import jlab_harness as H  # noqa: E402

ATTEMPTS = {
    "def wout_gradient": [
        ("wrong", '''def wout_gradient(rates, actions, probs, fd, mask, trials):
    logp = torch.log(probs.gather(-1, actions.unsqueeze(-1)))          # log pi(a), a value
    weight = (fd * mask).unsqueeze(-1) * logp.expand_as(probs)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials'''),
        ("right", '''def wout_gradient(rates, actions, probs, fd, mask, trials):
    onehot = torch.nn.functional.one_hot(actions, probs.shape[-1]).float()
    weight = (fd * mask).unsqueeze(-1) * (onehot - probs)
    return -torch.einsum("tbn,tba->na", rates, weight) / trials'''),
    ],
    "def first_adam_step": [
        ("wrong", '''def first_adam_step(params, loss_fn, lr):
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.SGD(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()'''),
        ("right", '''def first_adam_step(params, loss_fn, lr):
    loss_fn().backward()
    before = params["W_rec"].grad.norm().item()
    opt = torch.optim.Adam(params.values(), lr=lr)
    opt.step()
    opt.zero_grad()
    loss_fn().backward()
    return before, params["W_rec"].grad.norm().item()'''),
    ],
    "def hold_probability": [
        ("wrong", '''def hold_probability(probs, hold_steps):
    return probs[:hold_steps, :, 0].mean(dim=1).prod().item()'''),
        ("right", '''def hold_probability(probs, hold_steps):
    return probs[:hold_steps, :, 0].prod(dim=0).mean().item()'''),
    ],
}

SET_AND_SELECT = """(args) => {
  const nb = window.jupyterapp.shell.currentWidget;
  const cells = nb.content.widgets;
  const i = cells.findIndex(c => c.model.sharedModel.getSource().startsWith(args.prefix));
  if (i < 0) return -1;
  cells[i].model.sharedModel.setSource(args.src);
  nb.content.activeCellIndex = i;
  return i;
}"""
OUTPUT_OF = """(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node
  .querySelector('.jp-OutputArea') ?.innerText || ''"""


def main():
    tracker = H.ProcessTracker()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = REPO / "notebooks" / "02_wout_init.ipynb"
        rel = H.make_root(tmp / "root", [nb], REPO)[nb]
        server = H.LabServer(tmp / "root", tmp / "home", tracker).start()
        pw, browser = H.start_browser(tracker, tmp / "home")
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            H.open_and_run(page, server, rel, H.NotebookResult(rel))
            print("Run All: done, no errors")
            for prefix, attempts in ATTEMPTS.items():
                for kind, src in attempts:
                    i = page.evaluate(SET_AND_SELECT, {"prefix": prefix, "src": src})
                    assert i >= 0, prefix
                    before = page.evaluate(OUTPUT_OF, i + 1)
                    page.evaluate("() => window.jupyterapp.commands.execute("
                                  "'notebook:run-cell-and-select-next')")
                    page.evaluate("() => window.jupyterapp.commands.execute("
                                  "'notebook:run-cell-and-select-next')")
                    H.wait_until(lambda i=i, before=before: page.evaluate(OUTPUT_OF, i + 1)
                                 != before and H.re.search(r"\|\s*Idle\b",
                                                           H.kernel_status(page)),
                                 "the check cell's output", page, timeout=120)
                    page.wait_for_timeout(300)
                    print(f"{prefix[4:]} ({kind}): {page.evaluate(OUTPUT_OF, i + 1).strip()}")
        finally:
            browser.close()
            pw.stop()
            server.stop()
            tracker.kill_all()


if __name__ == "__main__":
    main()
