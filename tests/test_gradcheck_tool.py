"""The gradient-checking tools themselves: they must catch wrong gradients, not only pass."""

import numpy as np
import pytest

from alexnet_np import cli
from alexnet_np.gradcheck import assert_close, check_layer, numerical_gradient, rel_error
from alexnet_np.layers import ReLU


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: x ** 3, x, np.ones(3))
    np.testing.assert_allclose(grad, 3 * np.array([1.0, 4.0, 9.0]), rtol=1e-9)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # restored


def test_rel_error_scale():
    assert rel_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert rel_error([100.0, 1.0], [100.0, 2.0]) == pytest.approx(0.01)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_assert_close_reports_worst_entry():
    a = np.zeros((2, 3))
    b = a.copy()
    b[1, 2] = 1.0
    with pytest.raises(AssertionError, match=r"\(1, 2\): actual 0, expected 1"):
        assert_close(a, b, 1e-6, "demo")


class LeakyReLUBug(ReLU):
    """The classic bug: backward passes the gradient through negatives too."""

    def backward(self, dout):
        return dout.copy()


def test_check_layer_catches_a_wrong_backward():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1, (3, 4)) * rng.choice([-1, 1], (3, 4))
    assert check_layer(LeakyReLUBug(), x, rng)["dx"] > 0.1


def test_cli_gradcheck_all_passes(capsys):
    assert cli.main(["gradcheck", "all"]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out and "FAIL" not in out
    for name in ["conv2d", "relu", "lrn", "maxpool2d", "dropout", "linear", "softmax_xent"]:
        assert f"\n{name} " in out


def test_cli_gradcheck_fails_loudly(capsys):
    # an impossible tolerance makes every check fail: the command must exit non-zero
    assert cli.main(["gradcheck", "relu", "--tol", "0"]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_cli_unknown_layer_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["gradcheck", "nope"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_gradcheck_table_lines_up(capsys):
    assert cli.main(["gradcheck", "conv2d", "relu"]) == 0
    lines = capsys.readouterr().out.splitlines()[:-1]  # the rows, without the final verdict
    header, rows = lines[0], lines[1:]
    assert len(rows) > 2
    for column in ("result", "max relative error", "configuration"):
        i = header.index(column)
        for r in rows:  # every field starts where its heading does, after a space
            assert r[i - 1] == " " and r[i] != " ", (column, r)


def test_cli_gradcheck_without_layer_means_all():
    args = cli.build_parser().parse_args(["gradcheck"])
    assert args.layers == "all"
