# %% [markdown]
# Lessons 2 to 5 built the pieces: a cost that measures the error, gradient descent to lower
# it, stochastic and mini-batch updates, and back-propagation to get every gradient. The
# lecture puts them together in seven steps. This lesson follows the seven steps through a
# real first training step, with the numbers symnn's trainer actually used, and then trains a
# network that reads handwritten digits.

# %%
import re

import numpy as np
from matplotlib.figure import Figure

from symnn.course import Lesson
from symnn.course.plots import learning_curves
from symnn.nn import Dense, Sequential, Sigmoid
from symnn.nn.data import load

lesson = Lesson(6, "Training the ANN with stochastic gradient descent", reading=["nielsen", "hinton"])

# the slides' seven steps, word for word
SLIDE_STEPS = {
    1: "Randomly initialise the weights to small numbers close to 0 (but not 0).",
    2: "Input the first observation of your dataset in the input layer, each feature in one input node.",
    3: "Forward-Propagation: from left to right, the neurons are activated in a way that the "
    "impact of each neuron's activation is limited by the weights. Propagate the activations "
    "until getting the predicted result $\\hat{y}$.",
    4: "Compare the predicted result to the actual result. Measure the generated error.",
    5: "Back-Propagation: from right to left, the error is back-propagated. Update the weights "
    "according to how much they are responsible for the error. The learning rate decides by "
    "how much we update the weights.",
    6: "Repeat Steps 1 to 5 and update the weights after each observation (Reinforcement "
    "Learning). Or: Repeat Steps 1 to 5 but update the weights only after a batch of "
    "observations (Batch Learning).",
    7: "When the whole training set passed through the ANN, that makes an epoch. Redo more epochs.",
}

# %% [markdown]
# ## The seven steps, with real numbers
#
# The network: the lecture's table (the version on the stochastic-gradient-descent slides,
# inputs scaled as in lesson 2), three input nodes, a hidden layer of two sigmoid neurons and
# one sigmoid output, the quadratic cost, and stochastic updates — one observation at a time.
# symnn's trainer can narrate what it does: `fit(..., explain=...)` hands it a function that
# receives one line per step of the first update. Below, each step of the slides is followed
# by what the trainer reported.

# %%
table = load("study2")
X, y = table.X_train, table.y_train
SEED, ETA, HIDDEN = 0, 2.0, 2


def small_ann() -> Sequential:
    return Sequential([Dense(3, HIDDEN), Sigmoid(), Dense(HIDDEN, 1), Sigmoid()], loss="quadratic", seed=SEED)


lines: list[str] = []
ann = small_ann()
ann.fit(X, y, epochs=1, lr=ETA, mode="sgd", explain=lines.append)
lesson.code(f"""lines = []
net = Sequential([Dense(3, {HIDDEN}), Sigmoid(), Dense({HIDDEN}, 1), Sigmoid()],
                 loss="quadratic", seed={SEED})
net.fit(X, y, epochs=1, lr={ETA:g}, mode="sgd", explain=lines.append)""")

said: dict[int, list[str]] = {}
for line in lines:  # "STEP k: ..." lines, and indented continuation lines of the step before
    m = re.match(r"STEP (\d): (.*)", line)
    if m:
        said[int(m.group(1))] = [m.group(2)]
    else:
        said[max(said)].append(line.strip())
assert sorted(said) == sorted(SLIDE_STEPS), "the trainer should narrate all seven steps"
dense = [i for i, layer in enumerate(ann.layers) if isinstance(layer, Dense)]
sigmoid = [i for i, layer in enumerate(ann.layers) if isinstance(layer, Sigmoid)]
GLOSS = {  # what the trainer's names mean, read off this net's layers
    3: f"(The layers count from 0: layers {' and '.join(map(str, dense))} take the weighted sums, "
    f"layers {' and '.join(map(str, sigmoid))} apply the sigmoid, so \"z of layer {sigmoid[0]}\" "
    "holds the hidden neurons' weighted sums and the last $z$ the output neuron's.)",
    5: f"(The gradients are listed in the order of the layers: first layer {dense[0]}'s, the hidden "
    f"neurons' $\\delta$, then layer {dense[-1]}'s, the output neuron's. Each weight then moves by "
    "$-\\eta$ times its gradient; the arrows show a few weights before and after.)",
}
for k, slide in SLIDE_STEPS.items():
    trainer = said[k][0] + "".join(f"\n- {extra}" for extra in said[k][1:])
    gloss = f"\n\n{GLOSS[k]}" if k in GLOSS else ""
    lesson.markdown(f"**STEP {k}** (slide). {slide}\n\n*symnn's trainer:* {trainer}{gloss}")

# %% [markdown]
# ## Checking the step
#
# Did the step do its job? With the public API the same step can be taken by hand: a net with
# the same seed has the same starting weights, `gradients` gives every $\partial C / \partial w$
# by back-propagation, and each weight moves by $-\eta$ times its gradient.

# %%
first = int(re.search(r"observation (\d+)", said[2][0]).group(1))  # the trainer's row, 1-based
x1, y1 = X[first - 1 : first], y[first - 1 : first]
net = small_ann()
before = net.loss(x1, y1)
assert f"{before:.6g}" in said[4][0], "the hand-made step starts from the trainer's error"
grads = net.gradients(x1, y1)
for name, w in net.parameters().items():
    w -= ETA * grads[name]
after = net.loss(x1, y1)
values = [X[first - 1, j] for j in range(3)]
lesson.markdown(
    f"Observation {first} has inputs $x = ({values[0]:.4g}, {values[1]:.4g}, {values[2]:.4g})$ and "
    f"target $y = {y[first - 1]:g}$. Its error $\\frac{{1}}{{2}}(\\hat{{y}} - y)^2$ was {before:.6f} "
    f"before the step and is {after:.6f} after it: the step lowered it by "
    f"{100 * (before - after) / before:.1f}%. The other rows were not consulted, so their "
    "errors may go up or down; over many steps the table's cost goes down."
)

EPOCHS = 300
ann = small_ann()
ann.fit(X, y, epochs=EPOCHS, lr=ETA, mode="sgd", validation=(X, y))  # the table's cost after each epoch
n = len(y)
cost = n * np.array(ann.history["val_loss"])  # the trainer records the mean; the lecture's C sums
pred = ann.predict(X)
lesson.markdown(
    f"Repeating steps 2 to 5 for every observation makes {n} updates per epoch (step 6); redoing "
    f"{EPOCHS} epochs (step 7) brings the table's cost $C = \\sum \\frac{{1}}{{2}}(\\hat{{y}} - y)^2$ "
    f"from {cost[0]:.4f} after the first epoch to {cost[-1]:.4f}."
)
lesson.table(
    ["Row"] + [str(r + 1) for r in range(n)],
    [[r"$\hat{y}$"] + [f"{v:.2f}" for v in pred], ["$y$"] + [f"{v:.2f}" for v in y]],
    caption=f"The small ANN's predictions after {EPOCHS} epochs of stochastic gradient "
    "descent, and the exam marks they should match.",
)
lesson.note(
    "Two details of the slides. Step 6 says \"repeat Steps 1 to 5\", but the weights are "
    "initialised only once (symnn draws them when the `Sequential` is built, from its seed); "
    "every later update starts from the weights the last one left. And updating after each observation is "
    "*stochastic* (or *online*) learning, not reinforcement learning, which is a different "
    "subject: learning from rewards rather than from known answers."
)

# %% [markdown]
# ## A network that reads digits
#
# Now a real task, Nielsen's first network: recognising handwritten digits. symnn bundles
# scikit-learn's digits, small 8 x 8 images, so the input layer has 64 nodes (one per pixel),
# the hidden layer 30 sigmoid neurons and the output layer 10, one per digit; the answer is the
# output neuron with the largest value. As in Nielsen's book: quadratic cost, mini-batches of
# 10 observations (step 6, batch learning) and learning rate $\eta = 3$.

# %%
digits = load("digits")
n_pixels = digits.X_train.shape[1]
side = int(round(np.sqrt(n_pixels)))
lesson.markdown(
    f"The {len(digits.X_train) + len(digits.X_test)} images are split once (stratified, seed 0) "
    f"into {len(digits.X_train)} for training and {len(digits.X_test)} for testing; the network "
    "never trains on a test image, so the test accuracy measures how well it handles digits it "
    f"has not seen. Each image is {side} x {side} pixels with values 0 to 16, divided by 16."
)

SEED_D, EPOCHS_D, BATCH_D, ETA_D, HIDDEN_D = 0, 30, 10, 3.0, 30
mlp = Sequential([Dense(n_pixels, HIDDEN_D), Sigmoid(), Dense(HIDDEN_D, 10), Sigmoid()], loss="quadratic", seed=SEED_D)
first_batch: list[str] = []
mlp.fit(
    digits.X_train,
    digits.y_train,
    epochs=EPOCHS_D,
    lr=ETA_D,
    batch_size=BATCH_D,
    X_test=digits.X_test,
    y_test=digits.y_test,
    explain=first_batch.append,
)
lesson.code(f"""digits = load("digits")
first_batch = []
net = Sequential([Dense({n_pixels}, {HIDDEN_D}), Sigmoid(), Dense({HIDDEN_D}, 10), Sigmoid()],
                 loss="quadratic", seed={SEED_D})
net.fit(digits.X_train, digits.y_train, epochs={EPOCHS_D}, lr={ETA_D:g}, batch_size={BATCH_D},
        X_test=digits.X_test, y_test=digits.y_test, explain=first_batch.append)""")
step4 = next(ln for ln in first_batch if ln.startswith("STEP 4"))
step6 = next(ln for ln in first_batch if ln.startswith("STEP 6"))
lesson.markdown(
    f"The seven steps are the same; only step 6 differs. The trainer's narration of the first "
    f"mini-batch says: *{step6.split(': ', 1)[1]}*. In step 4 the error of an observation sums "
    f"over the ten outputs, and the trainer averages it over the {BATCH_D} observations of the "
    f"mini-batch: *{step4.split(': ', 1)[1]}*."
)

# %%
acc = np.array(mlp.history["val_accuracy"])  # X_test, y_test: the held-out set, after each epoch
loss = np.array(mlp.history["loss"])  # the running training cost: the mean over each epoch's batches
final = mlp.accuracy(digits.X_test, digits.y_test)
guess = mlp.predict(digits.X_test)
right = int(np.sum(guess == digits.y_test))
best_epoch = int(np.argmax(acc)) + 1
jiggle = int(np.max(np.abs(np.diff(np.rint(acc[EPOCHS_D // 2 - 1 :] * len(digits.y_test))))))
updates = EPOCHS_D * -(-len(digits.X_train) // BATCH_D)
lesson.markdown(
    f"After one epoch the network already recognises {100 * acc[0]:.1f}% of the test digits. "
    f"After {EPOCHS_D} epochs ({updates} updates) its **test accuracy is {final:.4f}**: "
    f"{right} of the {len(guess)} test images right. The best epoch was epoch {best_epoch}, at "
    f"{acc[best_epoch - 1]:.4f}; in the second half of training the accuracy still moves by up "
    f"to {jiggle} test image{'s' * (jiggle > 1)} from one epoch to the next, as the stochastic "
    "updates jiggle the weights."
)

fig = learning_curves(acc, loss, len(guess), len(digits.X_train), "cost")
curve = lesson.figure(
    fig,
    "learning_curve",
    f"The digits network {n_pixels}-{HIDDEN_D}-10 "
    f"learning: test accuracy after each epoch and the training cost during it (mini-batches "
    f"of {BATCH_D}, $\\eta = {ETA_D:g}$, seed {SEED_D}).",
    width=0.95,
)
LAST = 10
lesson.markdown(
    f"{curve} is the network's learning curve. The training cost is the running one: each "
    "mini-batch's cost just before its update, averaged over the epoch, as training loops usually "
    "report it, so measuring it costs no extra pass over the training images. It falls from "
    f"{loss[0]:.4f} in the first epoch to {loss[-1]:.4f} in the last; over the last {LAST} epochs alone from "
    f"{loss[-LAST - 1]:.4f} to {loss[-1]:.4f}, while the test accuracy goes from "
    f"{acc[-LAST - 1]:.4f} to {acc[-1]:.4f}: the last epochs polish the training images more "
    "than they help with new ones."
)

# %%
classes = np.arange(10)
per_class = [(int(np.sum(digits.y_test == d)), int(np.sum((digits.y_test == d) & (guess == d)))) for d in classes]
lesson.table(
    ["digit"] + [str(d) for d in classes],
    [
        ["test images"] + [t for t, _ in per_class],
        ["recognised"] + [c for _, c in per_class],
        ["accuracy"] + [f"{c / t:.2f}" for t, c in per_class],
    ],
    caption=f"Test accuracy digit by digit after {EPOCHS_D} epochs.",
)
wrong = np.flatnonzero(guess != digits.y_test)
pairs: dict[tuple[int, int], int] = {}
for i in wrong:
    key = (int(digits.y_test[i]), int(guess[i]))
    pairs[key] = pairs.get(key, 0) + 1
worst = min(per_class, key=lambda tc: tc[1] / tc[0])
worst_digit = per_class.index(worst)
wrong_guesses = np.bincount(guess[wrong], minlength=10)
top_guess = int(np.argmax(wrong_guesses))
lesson.markdown(
    f"The hardest digit for this network is {worst_digit} ({worst[1]} of {worst[0]} recognised)."
    + (
        f" The network's favourite wrong answer is {top_guess}: {wrong_guesses[top_guess]} of its "
        f"{len(wrong)} mistakes are guesses of {top_guess}."
        if len(wrong)
        else ""
    )
)

show = list(range(12)) + [int(i) for i in wrong[:12]]
rows = 2 if len(wrong) else 1
fig = Figure(figsize=(10, 1.9 * rows), layout="constrained")
axes = np.atleast_2d(fig.subplots(rows, 12))
for ax in axes.ravel():
    ax.axis("off")
for k, i in enumerate(show):
    ax = axes.ravel()[k]
    ax.imshow(digits.X_test[i].reshape(side, side), cmap="Greys", vmin=0, vmax=1)
    ok = guess[i] == digits.y_test[i]
    ax.set_title(
        f"{guess[i]}" if ok else f"{guess[i]} (is {digits.y_test[i]})", color="black" if ok else "tab:red", fontsize=9
    )
shown_wrong = (f"all {len(wrong)}" if len(wrong) <= 12 else "the first 12") + " it got wrong"
examples = lesson.figure(
    fig,
    "test_digits",
    "Test images with the network's guesses: the first "
    f"12 test images (top) and {shown_wrong} (bottom, in red, with the right "
    "answer).",
    width=0.95,
)
lesson.markdown(
    f"{examples} shows test images with the network's guesses, like the lecture's examples from "
    "the test set. This network sees 64 separate pixels and knows nothing of which pixels are "
    "neighbours; a network that looks for small shapes (strokes, corners, loops) wherever they "
    "are in the image is the subject of the next lessons: convolutional neural networks."
)
