"""KMeans is a real scikit-learn estimator: scikit-learn's own estimator checks pass.

One check is expected to fail, for the same reason it fails for scikit-learn's KMeans
(scikit-learn lists it as an expected failure of its own estimator): with random
initialization, a weight of 2 is not the same random draw as a repeated row.  ``docs/limits.md``
lists it.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from kmeans_scratch import KMeans

#: The reason scikit-learn gives its own KMeans the same two expected failures.
RANDOM_SEEDS = (
    "k-means++ draws its seeds at random: a sample of weight 2 and two copies of it "
    "are different draws (same as sklearn.cluster.KMeans)"
)
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": RANDOM_SEEDS,
    "check_sample_weight_equivalence_on_sparse_data": RANDOM_SEEDS,
}


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5, random_state=0)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
