"""How many cores this process may use, and Numba's threads set to match, before Numba loads.

Numba starts ``NUMBA_NUM_THREADS`` worker threads, by default one per core in the
process's CPU affinity mask.  Two things it does not see are handled here, once, before
``numba`` is imported (it reads its configuration then):

- a container's CPU quota (cgroup v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``): a process
  allowed 2 cores' worth of time on a 64-core host should run 2 threads, not 64;
- busy cores: a GNU OpenMP worker that finds no work spins 300,000 times before it
  sleeps.  When another process holds one of two cores, the spinning threads take turns
  with the ones that have work: a compression of 0.14 s on a quiet machine took 0.4–0.9 s.
  Idle workers that sleep at once (``OMP_WAIT_POLICY=PASSIVE``) keep it near 0.25 s, for
  0.02–0.03 s more on a quiet machine, where each parallel region wakes them; a short
  spin (``GOMP_SPINCOUNT=1000``) measured faster on a quiet machine but 0.04 s slower on
  a busy one, right at the lost core's share (``benchmarks/test_command.py``).

Both are defaults only: a value the user set in the environment (``NUMBA_NUM_THREADS``,
``OMP_WAIT_POLICY``, or ``GOMP_SPINCOUNT``, which then decides alone) is kept.
"""

import math
import os
import sys
from pathlib import Path

#: cgroup v2 and v1 files that state a CPU quota.
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def cgroup_cpu_limit():
    """The cores' worth of CPU time the cgroup allows (rounded up), or None if unlimited."""
    try:
        quota, period = CGROUP_V2_CPU_MAX.read_text().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
        return None
    except (OSError, ValueError):
        pass
    try:
        quota = int(CGROUP_V1_QUOTA.read_text())
        period = int(CGROUP_V1_PERIOD.read_text())
        if quota > 0 and period > 0:
            return max(1, math.ceil(quota / period))
    except (OSError, ValueError):
        pass
    return None


def usable_cores():
    """The cores this process may run on: its affinity mask, capped by a cgroup quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    return max(1, min(cores, limit) if limit else cores)


def configure_threads():
    """Set ``NUMBA_NUM_THREADS`` to the usable cores and ``OMP_WAIT_POLICY`` to PASSIVE,
    unless the environment says otherwise; Numba's threads are left alone once it is
    imported (the caller's own ``numba.set_num_threads`` then decides)."""
    if "GOMP_SPINCOUNT" not in os.environ:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(usable_cores()))
