"""The `symnn` program's exit (symnn.cli.run), in a fresh interpreter: it skips the
interpreter's teardown but still runs atexit handlers, delivers all output, keeps the exit code
and waits for other threads. bench/startup.py measures what it saves."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str, *, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300, env=env
    )


def test_symnn_program_runs_atexit_handlers_and_delivers_all_output():
    run = _python("""
        import atexit, sys
        atexit.register(lambda: print("atexit handler ran"))
        sys.argv = ["symnn", "derive", "cost"]
        from symnn.cli import run
        run()
        print("not reached")
    """)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.rstrip("\n").split("\n")
    assert lines[-1] == "atexit handler ran" and "not reached" not in run.stdout
    assert any("C = " in line or "C(" in line for line in lines[:-1])


def test_symnn_program_keeps_the_exit_code_and_waits_for_other_threads():
    run = _python("""
        import sys, threading, time
        threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished", flush=True))).start()
        sys.argv = ["symnn", "derive", "no-such-topic"]
        from symnn.cli import run
        run()
    """)
    assert run.returncode == 2
    assert run.stdout.strip() == "thread finished"
    assert run.stderr.startswith("symnn: error: unknown topic 'no-such-topic'")
    assert len(run.stderr.strip().splitlines()) == 1
