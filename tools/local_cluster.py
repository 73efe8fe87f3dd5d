"""Tries multi-worker training on one machine: starts N workers of a run script on loopback ports.

    python tools/local_cluster.py 2 run_mnist.py --runs 1 --epochs 2 --output output/cluster

starts `run_mnist.py --distribute multiworker ...` N times, each with its own TF_CONFIG (the
cluster on 127.0.0.1, free ports), shows the chief's (worker 0's) output, keeps each other
worker's in `local_cluster_worker_I.log` under --output (or the current folder), and exits with
the first non-zero status. Ctrl-C stops every worker; continue with the same command and --resume.
On several machines, start the run script itself on each, with a TF_CONFIG naming every machine
(README.md, "Several GPUs or machines").
"""

import argparse
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def stop(processes, signum, grace=10.0):
    """Sends `signum` to the workers still running; kills those that outlast `grace` seconds (a
    worker blocked inside a TensorFlow collective answers no signal)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signum)
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split(
        "\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workers", type=int, help="how many workers to start (2 or more)")
    parser.add_argument("script", help="a run script, e.g. run_mnist.py")
    parser.add_argument("flags", nargs=argparse.REMAINDER, help="the run script's flags")
    args = parser.parse_args(argv)
    if args.workers < 2:
        print(f"error: a cluster needs 2 or more workers, got {args.workers}", file=sys.stderr)
        return 2
    if not pathlib.Path(args.script).is_file():
        print(f"error: run script {args.script} does not exist", file=sys.stderr)
        return 2
    if "--distribute" in args.flags:
        print("error: leave out --distribute; this tool sets it to multiworker", file=sys.stderr)
        return 2
    output = pathlib.Path(args.flags[args.flags.index("--output") + 1]
                          if "--output" in args.flags[:-1] else ".")
    output.mkdir(parents=True, exist_ok=True)
    addresses = [f"127.0.0.1:{port}" for port in free_ports(args.workers)]
    processes, logs = [], []
    for index in range(args.workers):
        environment = dict(os.environ, TF_CONFIG=json.dumps(
            {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}))
        log = None if index == 0 else open(output / f"local_cluster_worker_{index}.log", "w")
        logs.append(log)
        processes.append(subprocess.Popen(
            [sys.executable, args.script, "--distribute", "multiworker", *args.flags],
            env=environment, stdout=log, stderr=subprocess.STDOUT if log else None))
    print(f"started {args.workers} workers on {', '.join(addresses)}", file=sys.stderr)
    status = 0
    try:
        while any(process.poll() is None for process in processes):
            failed = [process.returncode for process in processes if process.returncode]
            if failed:  # One failed: the others cannot go on without it.
                status = failed[0]
                stop(processes, signal.SIGTERM)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop(processes, signal.SIGINT)
        return 130
    finally:
        for log in logs:
            if log:
                log.close()
    return status or next((process.returncode for process in processes if process.returncode), 0)


if __name__ == "__main__":
    sys.exit(main())
