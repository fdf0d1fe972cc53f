"""An integer seed's ``numpy.random.RandomState`` draws, without importing ``numpy.random``.

Importing ``numpy.random`` (its generators, ``secrets``, ``hmac``) and drawing k-means++'s
seeds took 5.6–6.0 ms in the fresh process of ``kmeans-compress``, whose only draws these
are; this module, 0.9–1.1 ms.  A seed's
``RandomState`` is the Mersenne Twister MT19937 (Matsumoto and Nishimura, 1998), seeded
by ``init_genrand``; its doubles are ``(a >> 5) · 2²⁶ + (b >> 6)) / 2⁵³`` from two
successive 32-bit outputs a, b.  :class:`SeedStream` computes the same stream with NumPy
arrays and answers the two calls k-means++ makes, ``choice(n, p=p)`` and
``uniform(size=shape)``, with the bits ``RandomState(seed)`` gives
(``tests/test_seeding.py`` holds it to them).  Any other use turns it into a real
``RandomState`` in the same state (``set_state``), which then draws on: the stream is one
stream either way.
"""

import numpy as np

N, M = 624, 397
MATRIX_A = np.uint32(0x9908B0DF)
UPPER_MASK = np.uint32(0x80000000)
LOWER_MASK = np.uint32(0x7FFFFFFF)


def seeded_state(seed):
    """MT19937's 624 words for ``seed`` (``init_genrand``): w₀ = seed,
    w_i = 1812433253 · (w_{i−1} ⊕ (w_{i−1} >> 30)) + i  (mod 2³²)."""
    words = [seed & 0xFFFFFFFF]
    for i in range(1, N):
        previous = words[-1]
        words.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
    return np.array(words, dtype=np.uint32)


def twisted(state, start, stop, source):
    """Words ``start … stop − 1`` of the next state: w_i = w_{i+M} ⊕ ((y >> 1) ⊕ A·(y & 1)),
    y the upper bit of w_i and the lower 31 of w_{i+1}; ``source`` holds w_{i+M}."""
    y = (state[start:stop] & UPPER_MASK) | (state[start + 1 : stop + 1] & LOWER_MASK)
    return source ^ (y >> np.uint32(1)) ^ np.where(y & np.uint32(1), MATRIX_A, np.uint32(0))


def twist(state):
    """The next 624 words, in place.  Each word takes w_{i+M}, which for i ≥ N − M is a
    word of this same pass: the pass runs in runs of at most N − M words, each from
    words already made."""
    state[: N - M] = twisted(state, 0, N - M, state[M:N])
    state[N - M : 2 * (N - M)] = twisted(state, N - M, 2 * (N - M), state[: N - M])
    state[2 * (N - M) : N - 1] = twisted(state, 2 * (N - M), N - 1, state[N - M : M - 1])
    y = (state[N - 1] & UPPER_MASK) | (state[0] & LOWER_MASK)  # w₀ of this pass
    state[N - 1] = state[M - 1] ^ (y >> np.uint32(1)) ^ (MATRIX_A if y & 1 else np.uint32(0))


def tempered(words):
    """MT19937's output of state words: y ⊕= y >> 11; y ⊕= (y << 7) & B; y ⊕= (y << 15) & C;
    y ⊕= y >> 18."""
    y = words ^ (words >> np.uint32(11))
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    return y ^ (y >> np.uint32(18))


class SeedStream:
    """``numpy.random.RandomState(seed)`` for ``choice(n, p=p)`` and ``uniform(size=...)``
    (see the module's docstring); for anything else, a ``RandomState`` in its state."""

    def __init__(self, seed):
        if not 0 <= seed <= 0xFFFFFFFF:
            raise ValueError(f"Seed must be between 0 and 2**32 - 1, got {seed}")
        self.seed = seed
        self.state = seeded_state(seed)
        self.position = N  # the first draw twists
        self.random_state = None  # the RandomState, once something else was asked

    def next_words(self, count):
        """The next ``count`` 32-bit outputs."""
        out = np.empty(count, dtype=np.uint32)
        done = 0
        while done < count:
            if self.position == N:
                twist(self.state)
                self.position = 0
            take = min(count - done, N - self.position)
            out[done : done + take] = tempered(self.state[self.position : self.position + take])
            self.position += take
            done += take
        return out

    def random_sample(self, count):
        """``count`` doubles in [0, 1), 53 random bits each."""
        words = self.next_words(2 * count).reshape(count, 2)
        high, low = words[:, 0] >> np.uint32(5), words[:, 1] >> np.uint32(6)
        return (high * 67108864.0 + low) / 9007199254740992.0

    def choice(self, a, size=None, replace=True, p=None):
        """One index of ``range(a)`` drawn with probabilities ``p`` (``RandomState.choice``:
        the first index whose cumulative probability exceeds a double u)."""
        if self.random_state is not None or size is not None or not replace or p is None:
            return self.as_random_state().choice(a, size=size, replace=replace, p=p)
        cdf = np.ascontiguousarray(p, dtype=np.float64).cumsum()
        cdf /= cdf[-1]
        return int(cdf.searchsorted(self.random_sample(1)[0], side="right"))

    def uniform(self, low=0.0, high=1.0, size=None):
        """``size`` doubles uniform in [0, 1) (``RandomState.uniform``), in C order."""
        if self.random_state is not None or (low, high) != (0.0, 1.0) or size is None:
            return self.as_random_state().uniform(low, high, size)
        shape = (size,) if isinstance(size, int) else tuple(size)
        return self.random_sample(int(np.prod(shape, dtype=np.int64))).reshape(shape)

    def as_random_state(self):
        """The ``RandomState`` that continues this stream (made at the first call)."""
        if self.random_state is None:
            self.random_state = np.random.RandomState()
            self.random_state.set_state(("MT19937", self.state.copy(), self.position, 0, 0.0))
        return self.random_state

    def __getattr__(self, name):  # any other RandomState method: the RandomState's
        if name.startswith("__") or name in ("state", "position", "random_state", "seed"):
            raise AttributeError(name)
        return getattr(self.as_random_state(), name)
