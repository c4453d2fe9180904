"""Shapes and behaviour of the plain torch modules in hotleads.nn."""

import warnings

import pytest
import torch

from hotleads.nn import (
    CNNEncoder,
    FeatureTokenizer,
    Head,
    LSTMEncoder,
    MonthEmbedding,
    TokenConv1d,
    TokenNet,
    TransformerEncoder,
)

B, D = 5, 8
# Every setting, as the modules take no defaults; a test overrides what it is about.
SETTINGS = {
    LSTMEncoder: dict(d_in=D, hidden_size=4, n_layers=1, bidirectional=True, dropout=0.0, pooling="last"),
    CNNEncoder: dict(d_in=D, n_channels=4, kernel_size=3, n_layers=1, dropout=0.0, pooling="max"),
    TransformerEncoder: dict(d_model=D, n_heads=2, n_layers=1, d_ffn=None, dropout=0.0, pooling="cls"),
}


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def tokens(t: int) -> torch.Tensor:
    return torch.randn(B, t, D)


# ----------------------------------------------------------------------------- tokenizer


def test_tokenizer_shape_is_numeric_plus_categorical_tokens():
    tokenizer = FeatureTokenizer(n_numeric=3, cat_cardinalities=[4, 2], d_token=D)
    out = tokenizer(torch.randn(B, 3), torch.randint(0, 3, (B, 2)))
    assert out.shape == (B, 5, D)
    assert tokenizer.n_tokens == 5


def test_numeric_token_is_own_linear_map_plus_position():
    tokenizer = FeatureTokenizer(n_numeric=2, cat_cardinalities=[], d_token=D)
    x = torch.tensor([[2.0, -1.0]])
    out = tokenizer(x, torch.empty(1, 0, dtype=torch.long))
    expected = x[0, :, None] * tokenizer.num_weight + tokenizer.num_bias + tokenizer.position
    torch.testing.assert_close(out[0], expected)


def test_missing_numeric_uses_learned_missing_vector():
    tokenizer = FeatureTokenizer(n_numeric=2, cat_cardinalities=[], d_token=D)
    out = tokenizer(torch.tensor([[float("nan"), 1.0]]), torch.empty(1, 0, dtype=torch.long))
    expected = tokenizer.num_bias[0] + tokenizer.num_missing[0] + tokenizer.position[0]
    torch.testing.assert_close(out[0, 0], expected)
    assert torch.isfinite(out).all()


def test_each_categorical_feature_has_its_own_table_with_row_zero_for_unknown():
    tokenizer = FeatureTokenizer(n_numeric=0, cat_cardinalities=[3, 2], d_token=D)
    x_cat = torch.tensor([[0, 0], [1, 1], [3, 2]])
    out = tokenizer(torch.empty(3, 0), x_cat) - tokenizer.position
    table = tokenizer.cat_embedding.weight
    # feature 0 owns rows 0..3, feature 1 rows 4..6; row 0 of each = unknown
    torch.testing.assert_close(out[:, 0], table[[0, 1, 3]])
    torch.testing.assert_close(out[:, 1], table[[4, 5, 6]])
    assert table.shape == (3 + 1 + 2 + 1, D)


def test_tokenizer_without_features_is_refused():
    with pytest.raises(ValueError, match="at least one feature"):
        FeatureTokenizer(n_numeric=0, cat_cardinalities=[], d_token=D)


@pytest.mark.parametrize("d_token", [0, -1, 2.5, True])
def test_bad_sizes_name_the_argument(d_token):
    with pytest.raises(ValueError, match=r"d_token must be a positive integer, however: d_token="):
        FeatureTokenizer(n_numeric=1, cat_cardinalities=[], d_token=d_token)


# ----------------------------------------------------------------------------- encoders


@pytest.mark.parametrize("bidirectional, width", [(True, 12), (False, 6)])
@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("pooling, per_step", [("last", 1), ("mean", 1), ("max", 1), ("flatten", 7)])
def test_lstm_encoder_output_width(bidirectional, width, n_layers, pooling, per_step):
    encoder = LSTMEncoder(
        d_in=D, hidden_size=6, n_layers=n_layers, bidirectional=bidirectional, dropout=0.1,
        pooling=pooling, seq_len=7,
    )  # fmt: skip
    assert encoder.d_out == width * per_step
    assert encoder(tokens(7)).shape == (B, width * per_step)


def test_lstm_last_pooling_is_last_step_of_forward_direction():
    encoder = LSTMEncoder(d_in=D, hidden_size=6, n_layers=1, bidirectional=False, dropout=0.0, pooling="last").eval()
    x = tokens(4)
    out, _ = encoder.lstm(x)
    torch.testing.assert_close(encoder(x), out[:, -1])


def test_lstm_flatten_keeps_every_step_apart():
    encoder = LSTMEncoder(d_in=D, hidden_size=3, n_layers=1, bidirectional=True, dropout=0.0, pooling="flatten", seq_len=4).eval()
    x = tokens(4)
    out, _ = encoder.lstm(x)
    torch.testing.assert_close(encoder(x), out.reshape(B, 4 * 6))


@pytest.mark.parametrize("encoder_class", [LSTMEncoder, CNNEncoder])
def test_flatten_needs_the_sequence_length(encoder_class):
    with pytest.raises(ValueError, match="pooling='flatten' needs the sequence length"):
        encoder_class(**SETTINGS[encoder_class] | {"pooling": "flatten"})


def test_unknown_pooling_lists_the_options():
    with pytest.raises(ValueError, match="pooling must be one of 'flatten', 'mean', 'max'"):
        CNNEncoder(**SETTINGS[CNNEncoder] | {"pooling": "last"})


@pytest.mark.parametrize("t", [1, 3, 12])
@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_cnn_encoder_with_pooling_takes_any_length(t, pooling):
    encoder = CNNEncoder(d_in=D, n_channels=10, kernel_size=3, n_layers=2, dropout=0.0, pooling=pooling)
    assert encoder.d_out == 10
    assert encoder(tokens(t)).shape == (B, 10)


def test_cnn_encoder_flatten_width():
    encoder = CNNEncoder(**SETTINGS[CNNEncoder] | {"n_channels": 10, "pooling": "flatten", "seq_len": 12})
    assert encoder.d_out == 120
    assert encoder(tokens(12)).shape == (B, 120)


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("t", [1, 3, 13])
def test_token_conv_is_a_same_padded_conv1d_over_the_token_axis(kernel_size, t):
    conv = TokenConv1d(D, 6, kernel_size)
    reference = torch.nn.Conv1d(D, 6, kernel_size, padding="same")
    reference.load_state_dict(conv.state_dict())
    x = tokens(t)
    with warnings.catch_warnings():  # even kernels: torch notes its padded copy
        warnings.simplefilter("ignore", UserWarning)
        expected = reference(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(conv(x), expected)


def test_cnn_encoder_keeps_conv1d_weight_names():
    encoder = CNNEncoder(**SETTINGS[CNNEncoder] | {"n_layers": 2})
    assert {k: tuple(v.shape) for k, v in encoder.state_dict().items()} == {
        "convs.0.weight": (4, D, 3), "convs.0.bias": (4,),
        "convs.3.weight": (4, 4, 3), "convs.3.bias": (4,),
    }  # fmt: skip


@pytest.mark.parametrize("pooling", ["cls", "mean"])
@pytest.mark.parametrize("t", [1, 12, 30])
def test_transformer_encoder_takes_any_length(pooling, t):
    encoder = TransformerEncoder(**SETTINGS[TransformerEncoder] | {"n_layers": 2, "pooling": pooling})
    assert encoder.d_out == D
    assert encoder(tokens(t)).shape == (B, D)


def test_transformer_encoder_in_eval_mode_is_the_same_per_row_and_per_batch():
    encoder = TransformerEncoder(**SETTINGS[TransformerEncoder]).eval()
    x = tokens(6)
    with torch.inference_mode():
        torch.testing.assert_close(encoder(x)[:1], encoder(x[:1]))


def test_transformer_heads_must_divide_width():
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        TransformerEncoder(**SETTINGS[TransformerEncoder] | {"n_heads": 3})


def test_transformer_rejects_unknown_pooling():
    with pytest.raises(ValueError, match="pooling must be one of 'cls', 'mean'"):
        TransformerEncoder(**SETTINGS[TransformerEncoder] | {"pooling": "max"})


@pytest.mark.parametrize(
    "encoder",
    [
        LSTMEncoder(**SETTINGS[LSTMEncoder]),
        CNNEncoder(**SETTINGS[CNNEncoder]),
        TransformerEncoder(**SETTINGS[TransformerEncoder]),
    ],
    ids=["lstm", "cnn", "transformer"],
)
def test_encoders_are_differentiable(encoder):
    x = tokens(5).requires_grad_()
    encoder(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


# ----------------------------------------------------------------------------- head and net


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("d_hidden", [None, 16])
def test_head_gives_one_or_two_logits(n_outputs, d_hidden):
    head = Head(d_in=D, n_outputs=n_outputs, d_hidden=d_hidden, dropout=0.1)
    assert head(torch.randn(B, D)).shape == (B, n_outputs)


def test_token_net_end_to_end_shapes():
    tokenizer = FeatureTokenizer(n_numeric=3, cat_cardinalities=[4], d_token=D)
    encoder = CNNEncoder(**SETTINGS[CNNEncoder] | {"n_channels": 6, "pooling": "flatten", "seq_len": 4})
    net = TokenNet(tokenizer=tokenizer, encoder=encoder, head=Head(d_in=24, n_outputs=2, d_hidden=None, dropout=0.0))
    x_num = torch.randn(B, 3)
    x_num[0, 1] = float("nan")
    logits = net(x_num, torch.randint(0, 5, (B, 1)))
    assert logits.shape == (B, 2)
    assert torch.isfinite(logits).all()


def test_transformer_feed_forward_width_none_is_the_token_width():
    encoder = TransformerEncoder(**SETTINGS[TransformerEncoder] | {"d_ffn": None})
    assert encoder.layers.layers[0].linear1.out_features == D
    assert TransformerEncoder(**SETTINGS[TransformerEncoder] | {"d_ffn": 24}).layers.layers[0].linear1.out_features == 24


@pytest.mark.parametrize("module", [LSTMEncoder, CNNEncoder, TransformerEncoder])
def test_modules_have_no_defaults_of_their_own(module):
    """The estimators declare each default once (hotleads.neural_params); a module left without one refuses."""
    settings = dict(SETTINGS[module])
    settings.pop("dropout")
    with pytest.raises(TypeError, match="dropout"):
        module(**settings)


def test_month_patches_hold_runs_of_months_the_oldest_filled_with_unobserved_steps() -> None:
    torch.manual_seed(0)
    embedding = MonthEmbedding(d_in=2, d_model=4, n_steps=7, patch=3)
    x = torch.randn(5, 7, 2)
    out = embedding(x)
    assert out.shape == (5, 3, 4)
    newest = torch.cat([x[:, 4], x[:, 5], x[:, 6]], dim=1)  # the last three months, oldest first
    torch.testing.assert_close(out[:, -1], embedding.linear(newest) + embedding.position[0, -1])
    oldest = torch.cat([torch.zeros(5, 4), x[:, 0]], dim=1)  # two zero steps, then the first month
    torch.testing.assert_close(out[:, 0], embedding.linear(oldest) + embedding.position[0, 0])
    assert MonthEmbedding(d_in=2, d_model=4, n_steps=7)(x).shape == (5, 7, 4)  # patch 1: a token per month
