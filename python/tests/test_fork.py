"""Worker processes made by fork (multiprocessing's default start method on Linux, a
DataLoader's workers) run what their parent compiled and compile more of their own, on
several threads, while the parent's optimized compiles may be running: the library's fork
handlers wait for those compiles and give the child thread-pool workers of its own. Runs in
a child interpreter with a timeout, so a hang fails the test instead of stopping the suite."""
import os
import signal
import subprocess
import sys
import textwrap

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent(
    """
    import multiprocessing as mp
    import numpy as np
    import lucid_c as lucid
    import lucid_c.nn as nn

    lucid.set_num_threads(2)
    rng = np.random.default_rng(7)
    x = lucid.Tensor(rng.uniform(-2, 2, (2, 8, 4096)).astype(np.float32))
    pool = nn.LPPool1d(2.7, 4)
    want = [pool(x).numpy().copy() for _ in range(3)][-1]  # the second run starts tiering up
    other_x = rng.uniform(-2, 2, (3, 5, 301))

    def work(i):
        y = pool(x).numpy()
        z = nn.AvgPool1d(3, 2, 1)(lucid.Tensor(other_x + i)).numpy()  # compiled in the child
        return bool(np.array_equal(y, want)), z, lucid.get_num_threads()

    if __name__ == "__main__":
        ctx = mp.get_context("fork")
        with ctx.Pool(2) as workers:
            results = workers.map(work, range(4))
        for i, (same, z, threads) in enumerate(results):
            assert same, "a child's output differs from its parent's"
            ref = nn.AvgPool1d(3, 2, 1)(lucid.Tensor(other_x + i)).numpy()
            assert np.array_equal(z, ref), "a child's own compile differs from the parent's"
            assert threads == 2, threads
        print("ok")
    """
)


def test_fork_workers_run_and_compile(tmp_path):
    script = tmp_path / "fork_workers.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
    # a session of its own, so that a hung run's workers are ended with it
    child = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        raise AssertionError("the fork workers hung (killed after 120 s)")
    assert child.returncode == 0, err
    assert out.strip() == "ok"
