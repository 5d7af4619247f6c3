"""A character-level LSTM language model on a small bundled text, with generated samples.

Written as plain PyTorch code: it runs with PyTorch (``python examples/char_lstm.py``) and,
unchanged, on rustgrad (``python -m rustgrad run examples/char_lstm.py``). The text is
``examples/data/tiny_text.txt`` (about 1.8 kB, written for this example). The model embeds each
character, runs a 2-layer ``nn.LSTM`` and predicts the next character with a linear head,
trained on random windows with ``CrossEntropyLoss`` and ``Adam``. A tqdm progress bar shows the
loss; the loss curve is saved with matplotlib::

    pip install tqdm matplotlib
    python -m rustgrad run examples/char_lstm.py [--steps 300] [--plot char_lstm.png]
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


class CharLSTM(nn.Module):
    """``(B, T)`` character ids to ``(B, T, vocab)`` next-character scores."""

    def __init__(self, vocab, embed=32, hidden=128, layers=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def sample(model, stoi, itos, prompt="The ", length=120, temperature=0.8):
    """Generate ``length`` characters after ``prompt``, one at a time, carrying the LSTM state."""
    model.eval()
    ids = torch.tensor([[stoi[c] for c in prompt]])
    out = prompt
    state = None
    with torch.no_grad():
        for _ in range(length):
            logits, state = model(ids, state)
            probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1).item()
            out += itos[nxt]
            ids = torch.tensor([[nxt]])
    model.train()
    return out


def main(steps=300, batch=32, window=48, plot="char_lstm.png", seed=0):
    torch.manual_seed(seed)
    with open(TEXT) as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = torch.tensor([stoi[c] for c in text])
    model = CharLSTM(len(chars))
    print(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    bar = tqdm(range(steps), desc="char-lstm")
    for _ in bar:
        starts = torch.randint(0, len(data) - window - 1, (batch,))
        rows = torch.stack([data[s : s + window + 1] for s in starts.tolist()])
        x, y = rows[:, :-1], rows[:, 1:]
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    print("sample:", sample(model, stoi, itos))
    if plot:
        plt.figure(figsize=(6, 4))
        plt.plot(losses)
        plt.xlabel("step")
        plt.ylabel("cross-entropy")
        plt.title("character-level LSTM")
        plt.savefig(plot)
        print(f"saved the loss curve to {plot}")
    return losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--plot", default="char_lstm.png")
    args = parser.parse_args()
    main(steps=args.steps, plot=args.plot)
