#!/usr/bin/env python3
"""pty-answer.py -- runs a command on a fresh pseudo-terminal (its
controlling terminal, so /dev/tty works) and answers its prompts.

Usage: pty-answer.py ANSWER [ANSWER...] -- COMMAND [ARGS...]
Each time the output ends in a prompt (a line that ends with ": ", "] " or
"? " and no newline) the next ANSWER is typed, followed by Enter.  All
output goes to stdout; the exit status is the command's.  Gives up after
60 seconds (exit 124).
"""
import os
import pty
import select
import sys
import time

LIMIT_S = 60
PROMPT_ENDS = (b": ", b"] ", b"? ")


def main():
    sep = sys.argv.index("--")
    answers = sys.argv[1:sep]
    cmd = sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    buf = b""
    line = b""
    deadline = time.time() + LIMIT_S
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            buf += data
            line = (line + data).rsplit(b"\n", 1)[-1]
        if answers and line.endswith(PROMPT_ENDS):
            os.write(fd, answers.pop(0).encode() + b"\r")
            line = b""
    else:
        os.kill(pid, 9)
        sys.stdout.buffer.write(buf)
        sys.exit(124)
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(buf)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
