"""The examples of Lucid's documentation pages for AvgPool1d and LPPool1d
(github.com/ChanLumerico/lucid), run as written except for the import lines. Where the pages
print wrong values, the values checked are the right ones (docs/semantics.md lists them)."""
import lucid_c as lucid
import lucid_c.nn as nn
from lucid_c import Tensor


def test_avgpool1d_simple(capsys):
    input_tensor = Tensor([[[1.0, 2.0, 3.0, 4.0]]], requires_grad=True)  # Shape: (1, 1, 4)
    avg_pool = nn.AvgPool1d(kernel_size=2, stride=2, padding=0)
    output = avg_pool(input_tensor)  # Shape: (1, 1, 2)
    print(output)
    output.backward(Tensor([[[1.0, 1.0]]]))
    print(input_tensor.grad)
    assert capsys.readouterr().out == ("Tensor([[[1.5, 3.5]]], grad=None)\n"
                                       "Tensor([[[0.5, 0.5, 0.5, 0.5]]])\n")


def test_avgpool1d_padding_corrected(capsys):
    # The page prints shape (1, 1, 2) and [0.5, 2.0]; padding 1 gives 4 windows, and the
    # seed of backward must have the output's shape.
    input_tensor = Tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)  # Shape: (1, 1, 3)
    avg_pool = nn.AvgPool1d(kernel_size=2, stride=1, padding=1)
    output = avg_pool(input_tensor)  # Shape: (1, 1, 4)
    print(output)
    output.backward(Tensor([[[1.0, 1.0, 1.0, 1.0]]]))
    print(input_tensor.grad)
    assert capsys.readouterr().out == ("Tensor([[[0.5, 1.5, 2.5, 1.5]]], grad=None)\n"
                                       "Tensor([[[1.0, 1.0, 1.0]]])\n")
    x = Tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    y = nn.AvgPool1d(2, 1, 1, count_include_pad=False)(x)
    y.backward(lucid.ones(1, 1, 4))
    assert y.tolist() == [[[1.0, 1.5, 2.5, 3.0]]]
    assert x.grad.tolist() == [[[1.5, 1.0, 1.5]]]


def test_lppool1d_energy():
    pool = nn.LPPool1d(norm_type=2, kernel_size=4)
    x = lucid.ones((1, 8, 16))
    y = pool(x)
    assert y.shape == (1, 8, 4)
    assert (y.numpy() == 2).all()


def test_lppool1d_sum_overlapping():
    pool = nn.LPPool1d(norm_type=1, kernel_size=3, stride=1)
    x = lucid.ones((2, 4, 12))
    y = pool(x)
    assert y.shape == (2, 4, 10)
    assert (y.numpy() == 3).all()


def test_lppool1d_abs_and_ceil_mode():
    x = Tensor([[[1.0, -2.0, 3.0, -4.0, 5.0]]])
    assert nn.LPPool1d(2, 2)(x).tolist() == [[[5 ** 0.5, 5.0]]] or \
        abs(nn.LPPool1d(2, 2)(x).tolist()[0][0][0] - 5 ** 0.5) < 1e-6
    y = nn.LPPool1d(2, 2, ceil_mode=True)(x).numpy()
    assert y.shape == (1, 1, 3)
    assert abs(y[0, 0, 0] - 5 ** 0.5) < 1e-6 and y[0, 0, 1] == 5 and y[0, 0, 2] == 5


def test_module_prints_resolved_arguments():
    assert repr(nn.AvgPool1d(4)) == ("AvgPool1d(kernel_size=4, stride=4, padding=0, "
                                     "ceil_mode=False, count_include_pad=True)")
    assert repr(nn.LPPool1d(2, 4)) == "LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)"
    assert repr(nn.LPPool1d(2.5, 4, 2)) == "LPPool1d(norm_type=2.5, kernel_size=4, stride=2, ceil_mode=False)"
