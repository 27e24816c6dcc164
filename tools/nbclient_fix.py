"""A guard for headless notebook runs (nbmake under pytest, tools/build_site.py): a cell that
ended in the kernel must not wait for its timeout in the client. The repository's root
conftest.py installs it for every pytest run; build_site.py installs it itself.

The hang (issue 33, case 10; caught by tools/notebook_soak.py): nbclient waits for a cell's
execute_reply with one `await shell_channel.get_msg(timeout=<cell timeout>)`, a zmq.asyncio
poll woken by the shell socket's edge-triggered file descriptor. Meanwhile nbclient's mimic of
an ipywidgets Output widget (nbclient/output_widget.py) sends a comm message on that same shell
socket for every output the widget captures: our slider demos draw into an Output widget. A
send can consume the socket's wake-up, so a reply that arrives around it sits unread (the
stack dumps: kernel idle, the cell ended in the kernel a second after it started, the client's
socket holding a message) until the poll's timeout, where a final check finds it: the cell
"takes" exactly its timeout (nbmake: a timeout error; nbconvert without one: forever).

install() makes that wait poll in slices of SLICE seconds; the end of each slice checks the
socket again, so a lost wake-up costs at most SLICE. The messages and their order are
unchanged. Readers in JupyterLab never meet this: there the browser is the client.
"""

from __future__ import annotations

import time
from queue import Empty

SLICE = 1.0  # seconds: the most a lost wake-up can cost


async def _get_msg_in_slices(self, timeout: float | None = None) -> dict:
    """jupyter_client's AsyncZMQSocketChannel.get_msg, polling at most SLICE at a time."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        step = SLICE if left is None else min(SLICE, left)
        if await self.socket.poll(int(step * 1000)):
            return await self._recv()
        if left is not None and left <= step:
            raise Empty


def install() -> None:
    """Patch jupyter_client's asynchronous channels in this process (idempotent)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    AsyncZMQSocketChannel.get_msg = _get_msg_in_slices
