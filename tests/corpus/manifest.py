"""The corpus: real PyTorch programs written by others, and how each one's output is compared.

The programs' text lives in ``tests/corpus/programs/<name>.py`` (source URL, license notice and
every change at the top of each file). Modes:

- ``values``: the output is deterministic, so it must equal PyTorch's line by line: text exactly,
  numbers within ``rtol``/``atol``.
- ``skeleton``: the numbers cannot repeat PyTorch's (uninitialised memory, or a long training
  whose float32 rounding drifts from PyTorch's summation order); the text must still equal
  PyTorch's exactly, with as many numbers per line, every one finite. (Seeded draws are no
  reason: rustgrad's CPU generator draws PyTorch's stream; see ``STREAM_MATCHED``.)
- ``loss``: ``skeleton``, and the training loss (group 1 of ``loss`` on each matching line) is
  finite throughout and ends lower than it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TUTORIALS = "https://github.com/pytorch/tutorials/blob"
EXAMPLES = "https://github.com/pytorch/examples/blob/77f55b912142e11fcfdf5b530231fb9c52f181e8"
D2L = "https://github.com/d2l-ai/d2l-en/blob/23d7a5aecceee57d1292c56e90cce307f183bb0a"
MICROGRAD = "https://github.com/karpathy/micrograd/blob/c911406e5ace8742e5841a7e0df113ecb5d54685"
LLM_FROM_SCRATCH = (
    "https://github.com/rasbt/LLMs-from-scratch/blob/28c65cdfbc3338e2e040016eea4b7fdf556e4d57"
)
MORVAN = (
    "https://github.com/MorvanZhou/PyTorch-Tutorial/blob/dbe154a9e56635e51c6b0c2ccea8ae36cfb585a7/"
    "tutorial-contents"
)

# A training log line "<step> <loss>", as the "Learning PyTorch with Examples" programs print.
STEP_LOSS = r"^\d+ (\S+)$"
RANDOM_INIT = "weights (or data) come from torch.randn (PyTorch's random stream)"
D2L_CHANGES = (
    "the chapter's PyTorch cells (`%%tab pytorch` / `%%tab all`) concatenated in order; a cell's "
    "last expression is passed to `_show`, which prints its repr as Jupyter displays it"
)
PROSE = "long tutorial prose comments shortened (marked `[corpus: ... shortened]`); code unchanged"


@dataclass(frozen=True)
class Program:
    name: str
    source: str
    license: str
    mode: str
    reason: str
    changes: str = "none"
    loss: str | None = None
    rtol: float = 1e-4
    atol: float = 1e-6
    # command-line arguments, for programs that require some
    args: tuple[str, ...] = ()


PROGRAMS = (
    Program(
        "polynomial_tensor",
        f"{TUTORIALS}/088bc52a76551211d2499b1cca69a677eba59236/beginner_source/examples_tensor/polynomial_tensor.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        loss=STEP_LOSS,
    ),
    Program(
        "polynomial_autograd",
        f"{TUTORIALS}/02e5a75dc17eec70591fbfc71b6e53b390083c3a/beginner_source/examples_autograd/polynomial_autograd.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        "`a.grad, ... = 0., ...` (which PyTorch 2.13 rejects: a float is not a gradient) replaced by "
        "the `a.grad = None` lines the original has commented out above it",
        loss=STEP_LOSS,
    ),
    Program(
        "polynomial_custom_function",
        f"{TUTORIALS}/02ed6c5cf613bbf2b631704eee62033b8bd746ef/beginner_source/examples_autograd/polynomial_custom_function.py",
        "BSD-3-Clause",
        "values",
        "initial weights are constants (torch.full), so every number is determined",
    ),
    Program(
        "polynomial_nn",
        f"{TUTORIALS}/02d7694195db7543ff85fd72177d1f1adca7784a/beginner_source/examples_nn/polynomial_nn.py",
        "BSD-3-Clause",
        "loss",
        "nn.Linear's initial weights come from PyTorch's random stream",
        loss=STEP_LOSS,
    ),
    Program(
        "polynomial_optim",
        f"{TUTORIALS}/02d7694195db7543ff85fd72177d1f1adca7784a/beginner_source/examples_nn/polynomial_optim.py",
        "BSD-3-Clause",
        "loss",
        "nn.Linear's initial weights come from PyTorch's random stream",
        loss=STEP_LOSS,
    ),
    Program(
        "polynomial_module",
        f"{TUTORIALS}/1d189709801e98f5f184af0567c7f06b8b5156c2/beginner_source/examples_nn/polynomial_module.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        loss=STEP_LOSS,
    ),
    Program(
        "dynamic_net",
        f"{TUTORIALS}/1d189709801e98f5f184af0567c7f06b8b5156c2/beginner_source/examples_nn/dynamic_net.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        "6000 training steps instead of 30000 (over a minute on a CPU); it still prints every 2000",
        loss=STEP_LOSS,
    ),
    Program(
        "two_layer_net_autograd",
        f"{TUTORIALS}/15bfd259a60e64010d98cc9ed47c2ba45b12726b/beginner_source/examples_autograd/two_layer_net_autograd.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        loss=STEP_LOSS,
    ),
    Program(
        "two_layer_net_custom_function",
        f"{TUTORIALS}/4ba126213d3cfa9e10ecde3faaf3d93e9d9d02c1/beginner_source/examples_autograd/two_layer_net_custom_function.py",
        "BSD-3-Clause",
        "loss",
        RANDOM_INIT,
        loss=STEP_LOSS,
    ),
    Program(
        "tensorqs_tutorial",
        f"{TUTORIALS}/0dea8a155bb46fd384abe428afcbb65e0a391739/beginner_source/basics/tensorqs_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints torch.rand / torch.rand_like tensors",
    ),
    Program(
        "autogradqs_tutorial",
        f"{TUTORIALS}/1532c0de875b79f541371438d8d1d08be18f87de/beginner_source/basics/autogradqs_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "w and b come from torch.randn and their gradients are printed",
        PROSE,
    ),
    Program(
        "buildmodel_tutorial",
        f"{TUTORIALS}/07a339ece661a2b304b8834780470f522eed1e02/beginner_source/basics/buildmodel_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints activations and weights of randomly initialised layers",
        "the unused `from torchvision import datasets, transforms` commented out (torchvision is not a dependency)",
    ),
    Program(
        "neural_networks_tutorial",
        f"{TUTORIALS}/06dc97785c47755b8d5bca167ad3cfc2ee8a04c1/beginner_source/blitz/neural_networks_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints outputs and gradients of a randomly initialised LeNet",
        PROSE,
    ),
    Program(
        "blitz_tensor_tutorial",
        f"{TUTORIALS}/08c4ec986e5eddc66264d3f00f256aafe22d2786/beginner_source/blitz/tensor_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints torch.empty (uninitialised), torch.rand and torch.randn tensors",
    ),
    Program(
        "what_is_state_dict",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/what_is_state_dict.py",
        "BSD-3-Clause",
        "values",
        "prints module structure, parameter sizes and optimizer settings only",
        "long recipe prose in the docstring shortened (marked); code unchanged",
    ),
    Program(
        "nlp_pytorch_tutorial",
        f"{TUTORIALS}/00e0058584f8faf2e058902c245d88f672736cd7/beginner_source/nlp/pytorch_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints torch.randn tensors (after torch.manual_seed(1), PyTorch's stream)",
        PROSE,
    ),
    Program(
        "nlp_deep_learning_tutorial",
        f"{TUTORIALS}/016d0cc077f60c82b8497d4c7f92051ce40cafee/beginner_source/nlp/deep_learning_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "a bag-of-words classifier from randomly initialised nn.Linear; prints its outputs",
        PROSE,
    ),
    Program(
        "nlp_word_embeddings_tutorial",
        f"{TUTORIALS}/016d0cc077f60c82b8497d4c7f92051ce40cafee/beginner_source/nlp/word_embeddings_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "an n-gram language model with nn.Embedding; random initialisation (losses printed as one list)",
        PROSE,
    ),
    Program(
        "nlp_sequence_models_tutorial",
        f"{TUTORIALS}/0d1e0f7576479586ee777d5387153830750025eb/beginner_source/nlp/sequence_models_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "an LSTM part-of-speech tagger; random initialisation and inputs",
        PROSE,
    ),
    Program(
        "modelsyt_tutorial",
        f"{TUTORIALS}/108cc1aa7d1eeab1ecea696fd418f1b1a0eaa6e3/beginner_source/introyt/modelsyt_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints randomly initialised layers' parameters and outputs on torch.rand inputs",
        PROSE,
    ),
    Program(
        "autogradyt_tutorial",
        f"{TUTORIALS}/199e9530f4b72f57ba2dc222e1fd18db3efc49ed/beginner_source/introyt/autogradyt_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints gradients of a randomly initialised model; the profiler table (timings) is masked",
        PROSE
        + "; `optimizer.zero_grad()` given `set_to_none=False` (since PyTorch 2.0 it sets .grad "
        "to None and the tutorial's next line, which prints the zeroed gradient, fails)",
    ),
    Program(
        "defining_a_neural_network",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/defining_a_neural_network.py",
        "BSD-3-Clause",
        "skeleton",
        "prints the log-probabilities of a randomly initialised CNN on a torch.rand image",
        "long recipe prose shortened (marked); code unchanged",
    ),
    Program(
        "tensors_deeper_tutorial",
        f"{TUTORIALS}/3664438a88e1df751350abc330c23e277a3a406b/beginner_source/introyt/tensors_deeper_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "prints torch.rand tensors (PyTorch's stream, seeded 1729) and torch.empty ones",
        PROSE,
    ),
    Program(
        "forward_ad_usage",
        f"{TUTORIALS}/2d52ead6fdcf053698694bfe1c11cd88758f6f11/intermediate_source/forward_ad_usage.py",
        "BSD-3-Clause",
        "values",
        "prints nothing: its asserts (tangent identity, allclose of two JVPs) and gradcheck are the test",
    ),
    Program(
        "custom_function_double_backward",
        f"{TUTORIALS}/0ece40a1f1c8b0adb2c03fe2cb480762b96c09ee/intermediate_source/custom_function_double_backward_tutorial.py",
        "BSD-3-Clause",
        "values",
        "prints nothing: its gradcheck and gradgradcheck calls are the test",
        PROSE
        + "; `import torchviz` (not a dependency) replaced by a stand-in whose make_dot draws "
        "nothing (the script discards its result)",
    ),
    Program(
        "jacobians_hessians",
        f"{TUTORIALS}/14f19bbffcff42ee752897e57b4b96e4972d302f/intermediate_source/jacobians_hessians.py",
        "BSD-3-Clause",
        "skeleton",
        "torch.randn weights and inputs (seeded, PyTorch's stream); benchmark timings, whose units "
        "vary, are masked",
        PROSE
        + "; each `Timer(...).timeit(500)` is `.timeit(20)` (500 runs take over 30 s on a CPU)",
    ),
    Program(
        "regression",
        f"{EXAMPLES}/regression/main.py",
        "BSD-3-Clause",
        "skeleton",
        "target polynomial and batches come from torch.randn; it trains until the loss is below 1e-3",
    ),
    Program(
        "d2l_ndarray",
        f"{D2L}/chapter_preliminaries/ndarray.md",
        "MIT-0",
        "values",
        "deterministic apart from one torch.randn and two id() values, which are masked",
        D2L_CHANGES,
    ),
    Program(
        "d2l_autograd",
        f"{D2L}/chapter_preliminaries/autograd.md",
        "MIT-0",
        "values",
        "deterministic (the one torch.randn only feeds a comparison that prints True)",
        D2L_CHANGES,
    ),
    Program(
        "d2l_linear_algebra",
        f"{D2L}/chapter_preliminaries/linear-algebra.md",
        "MIT-0",
        "values",
        "deterministic",
        D2L_CHANGES,
    ),
    Program(
        "d2l_model_construction",
        f"{D2L}/chapter_builders-guide/model-construction.md",
        "MIT-0",
        "skeleton",
        "layers built with nn.LazyLinear, random initialisation; prints output shapes",
        D2L_CHANGES + "; d2lbook's `tab.selected(...)` answered as for the PyTorch tab",
    ),
    Program(
        "d2l_parameters",
        f"{D2L}/chapter_builders-guide/parameters.md",
        "MIT-0",
        "skeleton",
        "prints a randomly initialised network's state_dict and parameters",
        D2L_CHANGES,
    ),
    Program(
        "d2l_init_param",
        f"{D2L}/chapter_builders-guide/init-param.md",
        "MIT-0",
        "skeleton",
        "nn.init normal/uniform initialisations print random weights (constant ones are exact)",
        D2L_CHANGES,
    ),
    Program(
        "d2l_read_write",
        f"{D2L}/chapter_builders-guide/read-write.md",
        "MIT-0",
        "skeleton",
        "torch.save/torch.load of tensors, lists, dicts and a randomly initialised MLP's state_dict",
        D2L_CHANGES,
    ),
    Program(
        "micrograd_lecture_torch",
        "https://github.com/karpathy/nn-zero-to-hero/blob/73c3fcc741f0ec104ca850b1fb0df90e7e8d4cde/"
        "lectures/micrograd/micrograd_lecture_second_half_roughly.ipynb",
        "MIT",
        "values",
        "deterministic: one tanh neuron's output and gradients in float64",
        "the notebook's two PyTorch code cells (12 and 13) as a script",
    ),
    Program(
        "micrograd_test_engine",
        f"{MICROGRAD}/test/test_engine.py",
        "MIT",
        "values",
        "deterministic: checks micrograd's values and gradients against torch's",
        "micrograd/engine.py inlined in place of `from micrograd.engine import Value`; the two test "
        "functions are called at the end and report `ok`",
    ),
)

# Convolution, recurrence, normalisation and data loading (issue 12 point 8).
RECIPE_PROSE = "long recipe prose shortened (marked `[corpus: ... shortened]`); code unchanged"
D2L_ALIASES = (
    "; `from d2l import torch as d2l` replaced by the aliases the chapter uses (and `corr2d`), "
    "copied from the d2l package's d2l/torch.py at the same commit"
)
LAYERS_PROGRAMS = (
    Program(
        "d2l_conv_layer",
        f"{D2L}/chapter_convolutional-neural-networks/conv-layer.md",
        "MIT-0",
        "loss",
        "cross-correlation by hand (exact), then nn.LazyConv2d, randomly initialised, learns an "
        "edge-detection kernel",
        D2L_CHANGES + D2L_ALIASES,
        loss=r"^epoch \d+, loss (\S+)$",
    ),
    Program(
        "d2l_padding_and_strides",
        f"{D2L}/chapter_convolutional-neural-networks/padding-and-strides.md",
        "MIT-0",
        "values",
        "prints only the output shapes of nn.LazyConv2d with padding and strides",
        D2L_CHANGES,
    ),
    Program(
        "d2l_channels",
        f"{D2L}/chapter_convolutional-neural-networks/channels.md",
        "MIT-0",
        "values",
        "multi-channel cross-correlation of constant tensors; its torch.normal inputs only feed an "
        "assert",
        D2L_CHANGES + D2L_ALIASES,
    ),
    Program(
        "d2l_pooling",
        f"{D2L}/chapter_convolutional-neural-networks/pooling.md",
        "MIT-0",
        "values",
        "max/average pooling by hand and nn.MaxPool2d (padding, stride, channels) on arange inputs",
        D2L_CHANGES + D2L_ALIASES,
    ),
    Program(
        "d2l_rnn",
        f"{D2L}/chapter_recurrent-neural-networks/rnn.md",
        "MIT-0",
        "skeleton",
        "an RNN's hidden-state update by hand, two equal ways, on torch.randn inputs and weights",
        D2L_CHANGES + D2L_ALIASES,
    ),
    Program(
        "saving_and_loading_a_general_checkpoint",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/"
        "saving_and_loading_a_general_checkpoint.py",
        "BSD-3-Clause",
        "values",
        "prints a CNN's structure; the checkpoint (model and SGD state) round trip must not fail",
        RECIPE_PROSE,
    ),
    Program(
        "saving_multiple_models_in_one_file",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/"
        "saving_multiple_models_in_one_file.py",
        "BSD-3-Clause",
        "values",
        "prints nothing: two CNNs and their optimizers saved to one file and loaded must not fail",
        RECIPE_PROSE,
    ),
    Program(
        "warmstarting_model_using_parameters_from_a_different_model",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/"
        "warmstarting_model_using_parameters_from_a_different_model.py",
        "BSD-3-Clause",
        "values",
        "prints nothing: one CNN's state_dict loaded into another (strict=False) must not fail",
        RECIPE_PROSE,
    ),
    Program(
        "saving_and_loading_models_for_inference",
        f"{TUTORIALS}/0a7e68666de5faceafa90276ad2b7874cd32c5e0/recipes_source/recipes/"
        "saving_and_loading_models_for_inference.py",
        "BSD-3-Clause",
        "values",
        "prints a CNN's structure; its state_dict and the whole pickled module round trip",
        RECIPE_PROSE
        + "; the whole-module `torch.load(PATH)` given `weights_only=False` (PyTorch >= 2.6 "
        "refuses to unpickle a module by default)",
    ),
    Program(
        "reasoning_about_shapes",
        f"{TUTORIALS}/c53e7d4efc0e39e455c531d21ec7db28ba220214/recipes_source/recipes/"
        "reasoning_about_shapes.py",
        "BSD-3-Clause",
        "values",
        "Conv2d/MaxPool2d on the meta device: prints shapes only (the timings are masked)",
    ),
    Program(
        "nlp_advanced_tutorial",
        f"{TUTORIALS}/546ebc600c1972a19cc2aa858b081b85ac7bbf12/beginner_source/nlp/advanced_tutorial.py",
        "BSD-3-Clause",
        "skeleton",
        "a Bi-LSTM CRF (nn.Embedding, bidirectional nn.LSTM) from random initialisation; prints "
        "the Viterbi score and path before and after training",
        "long tutorial prose shortened (marked); the 0-d scores that `torch.cat` joins are given "
        "`.view(1)` (PyTorch >= 0.4 refuses to concatenate 0-d tensors)",
    ),
    Program(
        "ddp_series_single_gpu",
        f"{EXAMPLES}/distributed/ddp-tutorial-series/single_gpu.py",
        "BSD-3-Clause",
        "values",
        "a Dataset of torch.rand pairs through a shuffling DataLoader; prints batch sizes, step "
        "counts and checkpoint messages only",
        "datautils.py (same folder) inlined in place of `from datautils import MyTrainDataset`; "
        '`device = 0` (cuda:0) is `device = "cpu"`',
        args=("3", "1"),
    ),
    Program(
        "morvan_batch_train",
        f"{MORVAN}/305_batch_train.py",
        "MIT",
        "skeleton",
        "TensorDataset + DataLoader (shuffle, num_workers=2): the batches' order comes from "
        "PyTorch's random stream",
    ),
    Program(
        "morvan_optimizer",
        f"{MORVAN}/306_optimizer.py",
        "MIT",
        "values",
        "SGD, momentum, RMSprop and Adam over a DataLoader; prints the epoch numbers only (the "
        "losses go to a plot)",
    ),
    Program(
        "morvan_rnn_regressor",
        f"{MORVAN}/403_RNN_regressor.py",
        "MIT",
        "values",
        "nn.RNN (batch_first) regresses cos from sin with Adam; prints the model only (the "
        "predictions go to a plot)",
        "50 training steps instead of 100 (the plot and `plt.pause(0.05)` of every step take over 15 s)",
    ),
    Program(
        "morvan_batch_normalization",
        f"{MORVAN}/504_batch_normalization.py",
        "MIT",
        "values",
        "nn.BatchNorm1d (train/eval, momentum), nn.init, Adam over a DataLoader; prints the "
        "epoch numbers only (the losses go to plots)",
        "EPOCH = 2 instead of 12 (the per-epoch histogram plots take over a minute on a CPU)",
    ),
    Program(
        "morvan_dropout",
        f"{MORVAN}/503_dropout.py",
        "MIT",
        "values",
        "nn.Dropout in train/eval mode; prints the two models only (the losses go to a plot)",
        "100 training steps instead of 500 (the plots every 10 steps take a minute on a CPU)",
    ),
    Program(
        "llm_from_scratch_ch03_attention",
        f"{LLM_FROM_SCRATCH}/ch03/01_main-chapter-code/ch03.ipynb",
        "Apache-2.0",
        "skeleton",
        "self-attention, causal masking (masked_fill_, register_buffer), nn.Dropout and "
        "multi-head attention; weights from torch.rand / nn.Linear after manual_seed",
        "cell 0 (it prints the installed torch package's version from its metadata) left out; "
        "a cell's last expression is passed to `_show`, which prints its repr as Jupyter does",
    ),
    Program(
        "llm_from_scratch_appendix_a_part1",
        f"{LLM_FROM_SCRATCH}/appendix-A/01_main-chapter-code/code-part1.ipynb",
        "Apache-2.0",
        "loss",
        "a Dataset and DataLoaders (shuffle, drop_last) train a randomly initialised MLP with SGD",
        "cell 0's `print(torch.__version__)` (the library's own version) left out; a cell's last "
        "expression is passed to `_show`, which prints its repr as Jupyter does",
        loss=r"^Epoch: .* Train/Val Loss: (\S+)$",
    ),
)

PROGRAMS = PROGRAMS + LAYERS_PROGRAMS

# Programs compared by shape although seeded draws are no reason any more (rustgrad's CPU
# generator draws PyTorch's stream): uninitialised memory (torch.empty), float32 trainings
# that drift from PyTorch's summation order over hundreds of steps, and benchmark timings.
SHAPE_ONLY: frozenset[str] = frozenset(
    {
        "blitz_tensor_tutorial",
        "jacobians_hessians",
        "regression",
        "tensors_deeper_tutorial",
        "two_layer_net_autograd",
        "two_layer_net_custom_function",
    }
)
# Every other program whose numbers come from the random stream is compared value by value.
STREAM_MATCHED: frozenset[str] = frozenset(
    p.name for p in PROGRAMS if p.mode != "values" and p.name not in SHAPE_ONLY
)
PROGRAMS = tuple(
    replace(
        p,
        mode="values",
        loss=None,
        reason=p.reason + "; rustgrad draws PyTorch's stream, so every number is compared",
    )
    if p.name in STREAM_MATCHED
    else p
    for p in PROGRAMS
)

# Programs that give PyTorch's result under rustgrad today. Strict, like a strict xfail: a program
# that starts passing must be added here (tests/test_corpus.py fails until it is).
PASSING: frozenset[str] = frozenset(
    {
        "autogradqs_tutorial",
        "autogradyt_tutorial",
        "blitz_tensor_tutorial",
        "buildmodel_tutorial",
        "custom_function_double_backward",
        "d2l_autograd",
        "d2l_channels",
        "d2l_conv_layer",
        "d2l_init_param",
        "d2l_linear_algebra",
        "d2l_model_construction",
        "d2l_ndarray",
        "d2l_padding_and_strides",
        "d2l_parameters",
        "d2l_pooling",
        "d2l_read_write",
        "d2l_rnn",
        "ddp_series_single_gpu",
        "defining_a_neural_network",
        "dynamic_net",
        "forward_ad_usage",
        "llm_from_scratch_appendix_a_part1",
        "llm_from_scratch_ch03_attention",
        "micrograd_lecture_torch",
        "micrograd_test_engine",
        "morvan_batch_normalization",
        "morvan_batch_train",
        "morvan_dropout",
        "morvan_optimizer",
        "morvan_rnn_regressor",
        "modelsyt_tutorial",
        "neural_networks_tutorial",
        "nlp_advanced_tutorial",
        "nlp_deep_learning_tutorial",
        "nlp_pytorch_tutorial",
        "nlp_sequence_models_tutorial",
        "nlp_word_embeddings_tutorial",
        "polynomial_autograd",
        "polynomial_custom_function",
        "polynomial_module",
        "polynomial_nn",
        "polynomial_optim",
        "polynomial_tensor",
        "reasoning_about_shapes",
        "regression",
        "saving_and_loading_a_general_checkpoint",
        "saving_and_loading_models_for_inference",
        "saving_multiple_models_in_one_file",
        "tensorqs_tutorial",
        "tensors_deeper_tutorial",
        "two_layer_net_autograd",
        "two_layer_net_custom_function",
        "warmstarting_model_using_parameters_from_a_different_model",
        "what_is_state_dict",
    }
)

# Regular expressions whose matches are replaced by "<masked>" in both outputs before comparing,
# for output PyTorch itself does not repeat from run to run.
GLOBAL_MASKS: tuple[str, ...] = (r"(?<= at )0x[0-9a-f]+",)  # object addresses in reprs
MASKS: dict[str, tuple[str, ...]] = {
    # torch.utils.benchmark measurements: their unit follows the time measured
    "jacobians_hessians": (r"(?m)(?<=\d) (?:ns|us|ms|s)$",),
    # key_averages().table(): operator timings, in an order that follows them
    "autogradyt_tutorial": (r"-{10,}[\s\S]*?Self CPU time total: [^\n]*",),
    # timeit.default_timer() differences
    "reasoning_about_shapes": (r"(?<=Time taken: )\S+",),
    # id() is an address; torch.randn(3, 4) is the only tensor printed with 4 decimals (or in
    # scientific notation)
    "d2l_ndarray": (r"(?<=id\(Z\): )\d+", r"tensor\(\[\[ ?-?\d\.\d{4}(?:e[-+]\d\d)?,[^)]*\)"),
}
