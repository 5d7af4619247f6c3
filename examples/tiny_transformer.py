"""A character-level transformer (one pre-norm block) on the bundled text, with samples.

Written as plain PyTorch code: it runs with PyTorch (``python examples/tiny_transformer.py``)
and, unchanged, on rustgrad (``python -m rustgrad run examples/tiny_transformer.py``). Token and
position embeddings, one block of causal ``nn.MultiheadAttention`` and an MLP (each with
``nn.LayerNorm`` and a residual), a linear head; ``CrossEntropyLoss`` and ``Adam``. A tqdm
progress bar shows the loss; the loss curve is saved with matplotlib::

    pip install tqdm matplotlib
    python -m rustgrad run examples/tiny_transformer.py [--steps 300] [--plot tiny_transformer.png]
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

TEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tiny_text.txt")


class Block(nn.Module):
    """Causal self-attention and an MLP, each after a LayerNorm and added back (pre-norm)."""

    def __init__(self, dim, heads, dropout=0.1):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), nn.Dropout(dropout)
        )

    def forward(self, x):
        length = x.size(1)
        mask = torch.ones(length, length, dtype=torch.bool).triu(1)  # True: not attended
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TinyTransformer(nn.Module):
    """``(B, T)`` character ids to ``(B, T, vocab)`` next-character scores."""

    def __init__(self, vocab, context, dim=64, heads=4):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(context, dim)
        self.block = Block(dim, heads)
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids):
        x = self.tokens(ids) + self.positions(torch.arange(ids.size(1)))
        return self.head(self.ln(self.block(x)))


def sample(model, stoi, itos, context, prompt="The ", length=120, temperature=0.8):
    """Generate ``length`` characters after ``prompt`` from the last ``context`` characters."""
    model.eval()
    ids = [stoi[c] for c in prompt]
    with torch.no_grad():
        for _ in range(length):
            logits = model(torch.tensor([ids[-context:]]))
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            ids.append(torch.multinomial(probs, 1).item())
    model.train()
    return "".join(itos[i] for i in ids)


def main(steps=300, batch=32, context=32, plot="tiny_transformer.png", seed=0):
    torch.manual_seed(seed)
    with open(TEXT) as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = torch.tensor([stoi[c] for c in text])
    model = TinyTransformer(len(chars), context)
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    bar = tqdm(range(steps), desc="tiny-transformer")
    for _ in bar:
        starts = torch.randint(0, len(data) - context - 1, (batch,))
        rows = torch.stack([data[s : s + context + 1] for s in starts.tolist()])
        x, y = rows[:, :-1], rows[:, 1:]
        loss = loss_fn(model(x).reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    print("sample:", sample(model, stoi, itos, context))
    if plot:
        plt.figure(figsize=(6, 4))
        plt.plot(losses)
        plt.xlabel("step")
        plt.ylabel("cross-entropy")
        plt.title("character-level transformer")
        plt.savefig(plot)
        print(f"saved the loss curve to {plot}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--plot", default="tiny_transformer.png")
    args = parser.parse_args()
    main(steps=args.steps, plot=args.plot)
