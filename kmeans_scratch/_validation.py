"""Checks at the edge of the public API: every bad value gets an error that names it."""

import numbers
import sys

import numpy as np

from ._seed_stream import SeedStream


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value.  Both a ``ValueError`` and a ``TypeError``,
    as scikit-learn's error of the same name is: code written for either library's
    ``except ValueError`` (or ``TypeError``) catches it."""


def check_int(value, name, minimum):
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_non_negative_number(value, name):
    """Return ``value`` if it is a finite real number of at least 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a number >= 0, got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise InvalidParameterError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_choice(value, name, choices):
    """Return ``value`` if it is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(choice) for choice in choices)
        raise InvalidParameterError(f"{name} must be one of {options}; got {value!r}")
    return value


def check_n_samples(n_samples, n_clusters):
    """K-Means needs at least one sample per cluster."""
    if n_samples < n_clusters:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={n_clusters}.")


def check_sample_weight(sample_weight, n_samples, dtype):
    """Return the weights as a 1-D array of ``dtype``; ``None`` means all ones.

    Weights must be finite and non-negative, and at least one must be positive: K-Means
    with weights minimizes Σ_i w_i ‖x_i − c_{l_i}‖², which has
    no meaning for a negative weight and no minimizer when every weight is zero.
    """
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        sample_weight = np.full(n_samples, sample_weight, dtype=dtype)
    try:
        weights = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"sample_weight must be an array of numbers: {error}") from None
    if weights.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape (n_samples,) = ({n_samples},), "
            f"got shape {weights.shape}"
        )
    check_weight_values(weights)
    check_weight_total(weights.sum())
    return weights


def check_squared_norms(x_squared_norms, n_samples, dtype):
    """scikit-learn's ``x_squared_norms`` (‖x_i‖² for each row of X): ``None``, or an array
    of ``dtype`` with one finite value per sample, of shape (n_samples,) or, as
    scikit-learn also takes it, (n_samples, 1).  Returned as shape (n_samples,)."""
    if x_squared_norms is None:
        return None
    try:
        norms = np.asarray(x_squared_norms, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x_squared_norms must be an array of numbers: {error}") from None
    if norms.ndim == 0:
        raise ValueError(
            f"x_squared_norms must be an array of shape (n_samples,) = ({n_samples},), "
            f"got {x_squared_norms!r}"
        )
    if norms.shape[0] != n_samples:
        raise ValueError(
            f"The length of x_squared_norms {norms.shape[0]} should be equal to the length "
            f"of n_samples {n_samples}."
        )
    if norms.shape not in ((n_samples,), (n_samples, 1)):
        raise ValueError(
            f"x_squared_norms must have shape (n_samples,) = ({n_samples},), "
            f"got shape {norms.shape}"
        )
    check_finite(norms, "x_squared_norms")
    return norms.reshape(n_samples)


def check_weight_values(weights):
    """Every weight finite and non-negative (a chunk of weights may sum to zero)."""
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or infinity")
    if (weights < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got a minimum of {weights.min()}")


def check_weight_total(total):
    """The weights' sum must be positive: with every weight zero there is no minimizer."""
    if not total > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs a positive weight")


def check_finite(array, name):
    """Refuse NaN or infinity in ``array``, naming it and which."""
    if not np.isfinite(array).all():
        what = "NaN" if np.isnan(array).any() else "infinity"
        raise ValueError(f"{name} contains {what}")


def check_random_state(seed):
    """A ``numpy.random.RandomState`` for ``seed``, with scikit-learn's rule: None is
    NumPy's global generator, an integer seeds a new one, a RandomState is used as is.
    An integer's is a :class:`~._seed_stream.SeedStream`: its draws, without importing
    ``numpy.random`` (about 5 ms of the command's start)."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return SeedStream(int(seed))
    if isinstance(seed, SeedStream):
        return seed
    if seed is None or seed is sys.modules.get("numpy.random"):
        return np.random.mtrand._rand
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"{seed!r} cannot be used to seed a numpy.random.RandomState instance")


def check_float_rows(X, name="X", dtype=None, copy=False):
    """``X`` as a C-contiguous 2-D float array with at least one row and one column, finite.

    ``dtype`` None keeps float32 and makes anything else float64 (scikit-learn's rule);
    ``copy`` makes sure the result is not ``X`` itself.  Every refusal names ``name``.
    """
    if not isinstance(X, np.ndarray) and hasattr(X, "tocsr"):
        raise TypeError(f"{name} is a sparse matrix; K-Means needs a dense array")
    try:
        array = np.asarray(X)
        if dtype is None:
            dtype = np.float32 if array.dtype == np.float32 else np.float64
        if array.dtype.kind == "c":
            raise ValueError("complex values are not supported")
        if copy:
            array = np.array(array, dtype=dtype, order="C", copy=True)
        else:
            array = np.ascontiguousarray(array, dtype=dtype)
    except (TypeError, ValueError) as error:
        message = f"{name} must be an array of numbers (could not convert: {error})"
        raise ValueError(message) from None
    if array.ndim != 2:
        raise ValueError(
            f"Expected 2D array (n_samples, n_features) for {name}, got an array with "
            f"dim {array.ndim} and shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{name} has 0 samples (shape {array.shape}); at least 1 is required")
    if array.shape[1] == 0:
        raise ValueError(f"{name} has 0 features (shape {array.shape}); at least 1 is required")
    check_finite(array, name)
    return array
