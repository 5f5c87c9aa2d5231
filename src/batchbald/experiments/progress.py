"""Progress of running trials: tqdm bars (one per running trial and one overall) or log lines.

Trials report events ``(key, event, info)``; in parallel runs they travel through a queue to the
main process, which alone draws. Events: "start" (``total`` steps expected, ``done`` already),
"step" (``record``), "end" (``skipped``; ``elsewhere`` when another process finished it),
"error" (``message``) and "busy" (another process holds the trial; it is waited for later).
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm.auto import tqdm

__all__ = ["ProgressDisplay"]


def _step_line(key: str, record: dict[str, Any]) -> str:
    seconds = sum(record.get("timings", {}).values())
    line = (
        f"{key} step {record['step']}: {record['train_size']} labels, "
        f"test accuracy {100 * record['test_accuracy']:.2f}%, {seconds:.1f} s"
    )
    if record.get("stop_reason"):
        line += f" (stop: {record['stop_reason']})"
    if record.get("warnings"):
        kinds = sorted({message.split(":")[0] for message in record["warnings"]})
        line += f" [warned: {', '.join(kinds)}; see the trial file]"
    return line


class ProgressDisplay:
    """Draws what the trials report.

    Args:
        total_trials: trials in this run (the overall bar's length).
        quiet: print one log line per step instead of bars.
        stream: where to write (stderr by default).
    """

    def __init__(self, total_trials: int, *, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.bars: dict[str, Any] = {}
        self.overall = None
        if not quiet:
            self.overall = tqdm(
                total=total_trials, desc="trials", unit="trial", file=self.stream, position=0
            )

    def __call__(self, key: str, event: str, info: dict[str, Any]) -> None:
        """Show one progress event (``start``, ``step``, ...) of trial ``key``."""
        if event == "start":
            self._start(key, info)
        elif event == "step":
            if self.quiet:
                print(_step_line(key, info["record"]), file=self.stream, flush=True)
            elif key in self.bars:
                record = info["record"]
                self.bars[key].set_postfix_str(
                    f"{record['train_size']} labels, acc {100 * record['test_accuracy']:.1f}%",
                    refresh=False,
                )
                self.bars[key].update(1)
        elif event in ("end", "error"):
            self._end(key, event, info)
        elif event == "busy":
            print(
                f"{key}: running in another process; waiting for it after the other trials",
                file=self.stream,
                flush=True,
            )

    def _start(self, key: str, info: dict[str, Any]) -> None:
        if self.quiet:
            resumed = f", resuming after step {info['done'] - 1}" if info["done"] else ""
            print(f"{key}: started{resumed}", file=self.stream, flush=True)
            return
        self.bars[key] = tqdm(
            total=info["total"], initial=info["done"], desc=key, unit="step",
            file=self.stream, leave=False,
        )  # fmt: skip

    def _end(self, key: str, event: str, info: dict[str, Any]) -> None:
        bar = self.bars.pop(key, None)
        if bar is not None:
            bar.close()
        message = (
            "failed: " + info.get("message", "")
            if event == "error"
            else "done by another process"
            if info.get("elsewhere")
            else ("already complete" if info.get("skipped") else "done")
        )
        if self.quiet or event == "error":
            print(f"{key}: {message}", file=self.stream, flush=True)
        if self.overall is not None:
            self.overall.update(1)

    def close(self) -> None:
        """Close every progress bar."""
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
        if self.overall is not None:
            self.overall.close()
