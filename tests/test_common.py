"""scikit-learn's estimator conformance suite over the neural classifiers."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from hotleads.neural import CNNClassifier, LSTMClassifier, TransformerClassifier

# Tiny networks on one thread so the suite stays fast; lr is high enough to
# pass check_classifiers_train's accuracy bar (0.83 on blobs) in a few epochs.
TINY = dict(
    d_token=4, head_hidden=8, epochs=10, batch_size=32, lr=1e-2, lr_schedule="constant",
    device="cpu", n_threads=1, random_state=0,
)  # fmt: skip

ESTIMATORS = [
    LSTMClassifier(hidden_size=8, **TINY),
    CNNClassifier(n_channels=8, **TINY),
    TransformerClassifier(n_heads=2, n_layers=1, **TINY),
]

# Every check passes, so there is no expected_failed_checks list. If one is
# needed later: parametrize_with_checks(..., expected_failed_checks=lambda
# estimator: {"check_name": "why it cannot apply"}).


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
