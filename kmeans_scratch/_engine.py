"""What the layers above the core (``kmeans_scratch.compression``, ``kmeans_scratch.dask``)
use of it: the one place where they reach past the public API.

The core's modules are private, and a layer imports from here or from ``kmeans_scratch``
only, so that this list is the whole of what they rely on:

- **their own kernels**: ``kernel`` (Numba's ``njit``, deferred) and ``prange``;
- **compiled once**: ``register_ahead_of_time_calls`` registers the calls a layer's
  ``_compiled`` module lists, with the argument types (``Array``, ``Tuple`` and their
  shorthands), and the core's own tables, ``fit_setup_calls`` (distinct rows, k-means++)
  and ``fit_step_calls`` (a fit's steps in a dtype), for the build to compile;
  ``use_ahead_of_time`` lets a process run them (``ahead_of_time_used``: whether it
  may); ``numba_started`` and ``ahead_of_time_module_file`` say what a process runs;
- **threads and cores**: ``usable_cores``, ``run_on_threads`` (work that releases the GIL,
  on this thread and one per other core), ``set_threads`` and ``get_threads`` (Numba's,
  for parallel kernels), ``threads_for`` (a kernel's threads for its rows),
  ``worker_threads`` (a worker's, for the length of a task), ``threading_layer``;
- **optional extras**: ``require`` and ``MissingExtra``, the one-line error naming the extra;
- **a fit's pieces, for Dask's chunks**: the moments (``column_moments``, ``each_row``), the
  labels, distances and inertia of a chunk, the centers from the summed chunks
  (``centers_from_sums``, ``move_to_empty_cluster``, ``squared_center_shift``), the
  algorithms (``ALGORITHMS``; ``algorithm_for_dense_rows``: what "elkan" runs) and the
  greedy k-means++ on the candidates of k-means||;
- **the palette's seeding**: ``greedy_kmeans_plusplus_starts`` (several starts' seeds,
  on the cores where that pays) with fewer candidates per center than scikit-learn's
  ``default_local_trials``; ``greedy_kmeans_plusplus`` (one, for k-means||);
- **the estimator's parameter checks**, so that the Dask estimator refuses what
  ``KMeans`` refuses, in the same words.
"""

from ._ahead import (
    F4_1,
    F4_2,
    F4_3,
    F8,
    F8_1,
    F8_2,
    F8_3,
    I4_1,
    I8,
    I8_1,
    U8_1,
    U8_2,
    U8_2_READONLY,
    U8_3,
    U8_3_READONLY,
    U64_2,
    Array,
    Tuple,
    fit_setup_calls,
    fit_step_calls,
    merged_calls,
    register_ahead_of_time_calls,
)
from ._ahead import find_module_file as ahead_of_time_module_file
from ._blocks import column_moments, each_row
from ._cores import usable_cores
from ._distances import (
    assign_labels,
    euclidean_distances_to_centers,
    inertia_of_labels,
    sq_distances_to_assigned,
)
from ._extras import MissingExtra, require
from ._fit import (
    ALGORITHMS,
    algorithm_for_dense_rows,
    check_init_shape,
    check_parameters,
    resolve_n_init,
    tolerance,
)
from ._iterations import centers_from_sums, move_to_empty_cluster, squared_center_shift
from ._kernels import (
    ahead_of_time_used,
    get_threads,
    kernel,
    numba_started,
    prange,
    run_on_threads,
    set_threads,
    use_ahead_of_time,
)
from ._seeding import default_local_trials, greedy_kmeans_plusplus, greedy_kmeans_plusplus_starts
from ._threads import threading_layer, threads_for, worker_threads
from ._validation import (
    check_finite,
    check_float_rows,
    check_int,
    check_n_samples,
    check_non_negative_number,
    check_random_state,
    check_sample_weight,
    check_weight_total,
    check_weight_values,
)

__all__ = [
    "ALGORITHMS",
    "F4_1",
    "F4_2",
    "F4_3",
    "F8",
    "F8_1",
    "F8_2",
    "F8_3",
    "I4_1",
    "I8",
    "I8_1",
    "U8_1",
    "U8_2",
    "U8_2_READONLY",
    "U8_3",
    "U8_3_READONLY",
    "U64_2",
    "Array",
    "MissingExtra",
    "Tuple",
    "ahead_of_time_module_file",
    "ahead_of_time_used",
    "algorithm_for_dense_rows",
    "assign_labels",
    "centers_from_sums",
    "check_finite",
    "check_float_rows",
    "check_init_shape",
    "check_int",
    "check_n_samples",
    "check_non_negative_number",
    "check_parameters",
    "check_random_state",
    "check_sample_weight",
    "check_weight_total",
    "check_weight_values",
    "column_moments",
    "default_local_trials",
    "each_row",
    "euclidean_distances_to_centers",
    "fit_setup_calls",
    "fit_step_calls",
    "get_threads",
    "greedy_kmeans_plusplus",
    "greedy_kmeans_plusplus_starts",
    "inertia_of_labels",
    "kernel",
    "merged_calls",
    "move_to_empty_cluster",
    "numba_started",
    "prange",
    "register_ahead_of_time_calls",
    "require",
    "resolve_n_init",
    "run_on_threads",
    "set_threads",
    "sq_distances_to_assigned",
    "squared_center_shift",
    "threading_layer",
    "threads_for",
    "tolerance",
    "usable_cores",
    "use_ahead_of_time",
    "worker_threads",
]
