"""The layers of ``rustgrad.nn``, one file per family (as ``torch.nn.modules``)."""

from rustgrad.nn.modules.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from rustgrad.nn.modules.container import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from rustgrad.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from rustgrad.nn.modules.dropout import Dropout, Flatten, Unflatten
from rustgrad.nn.modules.linear import Identity, Linear
from rustgrad.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from rustgrad.nn.modules.module import Module
from rustgrad.nn.modules.pooling import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
    Upsample,
)

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Hardtanh",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MarginRankingLoss",
    "Mish",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "ParameterDict",
    "ParameterList",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
]

# ----- layers branch: embedding, normalisation, lazy, recurrent, attention ---------------------
from rustgrad.nn.modules.activation import MultiheadAttention, RReLU
from rustgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from rustgrad.nn.modules.dropout import (
    AlphaDropout,
    Dropout1d,
    Dropout2d,
    Dropout3d,
    FeatureAlphaDropout,
)
from rustgrad.nn.modules.lazy import LazyLinear, LazyModuleMixin, UninitializedParameter
from rustgrad.nn.modules.normalization import GroupNorm, LayerNorm
from rustgrad.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell
from rustgrad.nn.modules.sparse import Embedding, EmbeddingBag

__all__ += [
    "GRU",
    "LSTM",
    "RNN",
    "AlphaDropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "Embedding",
    "EmbeddingBag",
    "FeatureAlphaDropout",
    "GRUCell",
    "GroupNorm",
    "LSTMCell",
    "LayerNorm",
    "LazyLinear",
    "LazyModuleMixin",
    "MultiheadAttention",
    "RNNBase",
    "RNNCell",
    "RReLU",
    "UninitializedParameter",
]
__all__ += [  # convolution, pooling, resizing (branch conv)
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "Upsample",
]

# ----- branch nn2: transformer, lazy convolutions, adaptive pooling ----------------------------
from rustgrad.nn.modules.lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
)
from rustgrad.nn.modules.pooling import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d
from rustgrad.nn.modules.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "AdaptiveAvgPool1d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

# ----- more activations, distances, pixel shuffling and losses ----------------------------------
from rustgrad.nn.modules.activation import (
    CELU,
    GLU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    PReLU,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from rustgrad.nn.modules.distance import CosineSimilarity, PairwiseDistance
from rustgrad.nn.modules.loss import (
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from rustgrad.nn.modules.pixelshuffle import PixelShuffle, PixelUnshuffle

__all__ += [
    "CELU",
    "GLU",
    "CosineSimilarity",
    "GaussianNLLLoss",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "HingeEmbeddingLoss",
    "PReLU",
    "PairwiseDistance",
    "PixelShuffle",
    "PixelUnshuffle",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "Softmin",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
    "TripletMarginLoss",
]

# ----- normalisation, padding, pooling and resizing extras ------------------------------------
from rustgrad.nn.modules.activation import Softmax2d
from rustgrad.nn.modules.linear import Bilinear
from rustgrad.nn.modules.loss import MultiLabelSoftMarginLoss
from rustgrad.nn.modules.normalization import (
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LocalResponseNorm,
    RMSNorm,
)
from rustgrad.nn.modules.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from rustgrad.nn.modules.pixelshuffle import ChannelShuffle
from rustgrad.nn.modules.pooling import (
    AvgPool1d,
    Fold,
    Unfold,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
)

__all__ += [
    "AvgPool1d",
    "Bilinear",
    "ChannelShuffle",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "Fold",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LocalResponseNorm",
    "MultiLabelSoftMarginLoss",
    "RMSNorm",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "Softmax2d",
    "Unfold",
    "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]

# ----- 3-d pooling, max unpooling, power-average pooling, margin losses -----------------------
from rustgrad.nn.modules.loss import (
    MultiLabelMarginLoss,
    MultiMarginLoss,
    TripletMarginWithDistanceLoss,
)
from rustgrad.nn.modules.pooling import (
    AdaptiveAvgPool3d,
    AdaptiveMaxPool3d,
    AvgPool3d,
    LPPool1d,
    LPPool2d,
    LPPool3d,
    MaxPool3d,
    MaxUnpool1d,
    MaxUnpool2d,
    MaxUnpool3d,
)

__all__ += [
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
    "MultiLabelMarginLoss",
    "MultiMarginLoss",
    "TripletMarginWithDistanceLoss",
]

# ----- the connectionist temporal classification loss ------------------------------------------
from rustgrad.nn.modules.loss import CTCLoss

__all__ += ["CTCLoss"]
