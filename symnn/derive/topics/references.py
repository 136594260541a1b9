"""The works the derivations cite, one constant each (a Derivation's references)."""

NIELSEN = (
    "Nielsen, M. (2015). Neural Networks and Deep Learning, ch. 1–2. "
    "http://neuralnetworksanddeeplearning.com/chap2.html"
)
TRASK = (
    "Trask, A. (2015). A Neural Network in 13 lines of Python (Part 2 – Gradient Descent). "
    "https://iamtrask.github.io/2015/07/27/python-network-part2/"
)
CROSSVALIDATED = (
    "CrossValidated (2015). A list of cost functions used in neural networks, alongside applications. "
    "http://stats.stackexchange.com/questions/154879"
)
WU = "Wu, J. (2017). Introduction to Convolutional Neural Networks. http://cs.nju.edu.cn/wujx/paper/CNN.pdf"
LECUN = (
    "LeCun, Y. et al. (1998). Gradient-Based Learning Applied to Document Recognition. "
    "http://yann.lecun.com/exdb/publis/pdf/lecun-01a.pdf"
)
GOODFELLOW = (
    "Goodfellow, I., Bengio, Y., Courville, A. (2016). Deep Learning, §6.2.2.3 (softmax units) and §4.1 "
    "(overflow and underflow: softmax with the maximum subtracted). https://www.deeplearningbook.org"
)
PYTORCH_POOL = (
    "PyTorch documentation, torch.nn.MaxPool2d and its backward (max_pool2d_with_indices): the gradient "
    "goes to the index of the first maximum. "
    "https://pytorch.org/docs/stable/generated/torch.nn.MaxPool2d.html"
)
