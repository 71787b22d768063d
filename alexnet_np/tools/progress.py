"""A small progress bar for long loops: counts, rate, ETA and a few live figures.

On a terminal it redraws one line (carriage return); in a log file or a pipe it prints a full
line every ``every`` seconds instead, so logs stay readable.
"""

import sys
import time


def format_seconds(s):
    s = int(max(s, 0))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    """``Progress(total, desc)``; call ``update(n, **figures)`` per item, ``close()`` at the end.

    Figures are shown as ``name=value``; ``unit`` names what is counted (the rate is per unit).
    """

    def __init__(self, total, desc="", unit="it", stream=None, enabled=True, every=10.0,
                 rate_unit=None, rate_scale=1.0):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = every
        self.rate_unit, self.rate_scale = rate_unit or f"{unit}/s", rate_scale
        self.count = 0
        self.start = self.last_print = time.perf_counter()
        self.figures = {}

    def update(self, n=1, **figures):
        self.count += n
        self.figures.update(figures)
        now = time.perf_counter()
        if not self.enabled:
            return
        if self.tty and now - self.last_print >= 0.1 or now - self.last_print >= self.every:
            self._print(now)

    def line(self, now=None):
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        rate = self.count / elapsed if elapsed > 0 else 0.0
        parts = [self.desc] if self.desc else []
        if self.total:
            frac = min(self.count / self.total, 1.0)
            bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
            eta = (self.total - self.count) / rate if rate > 0 else 0
            parts.append(f"[{bar}] {self.count}/{self.total}")
        else:
            eta = 0
            parts.append(f"{self.count} {self.unit}")
        parts += [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                  for k, v in self.figures.items()]
        parts.append(f"{rate * self.rate_scale:.1f} {self.rate_unit}")
        parts.append(f"{format_seconds(elapsed)}<{format_seconds(eta)}")
        return " ".join(parts)

    def _print(self, now):
        self.last_print = now
        if self.tty:
            self.stream.write("\r" + self.line(now) + "\x1b[K")
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()

    def close(self):
        if self.enabled:
            if self.tty:
                self.stream.write("\r" + self.line() + "\x1b[K\n")
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()
