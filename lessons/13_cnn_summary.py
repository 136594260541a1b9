# %% [markdown]
# Time to put the steps together. A convolutional neural network reads an image through a
# convolutional layer of feature detectors (step 1), a ReLU layer (step 1(b)), a pooling layer
# (step 2), flattening (step 3) and a fully connected part (step 4) whose output neurons, one per
# class, are turned into probabilities by the softmax function and scored by the cross-entropy
# (lesson 14). Training, with the mini-batch gradient descent of lessons 4 and 6, adjusts the
# dense weights *and* the feature detectors: the network learns which features to look for.
# This lesson trains such a network on the handwritten digits of lesson 6 and looks inside it.

# %%
import numpy as np
from matplotlib.figure import Figure

from symnn.course import Lesson
from symnn.course.plots import learning_curves
from symnn.nn import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, Sigmoid
from symnn.nn.data import load

lesson = Lesson(13, "Summary - the whole CNN", reading=["lecun", "nielsen"])

# %% [markdown]
# ## The network
#
# Eight feature detectors of 3 x 3, ReLU, 2 x 2 max pooling, flattening, and a dense layer of
# ten output neurons with softmax and cross-entropy. Every layer runs on the kernels symnn
# generated from its derivation (lessons 8 to 12 and 14).

# %%
digits = load("digits", images=True)  # (N, 1, 8, 8) images, the split of lesson 6
_, channels, height, width = digits.X_train.shape
FILTERS, KERNEL, POOL, CLASSES, SEED = 8, 3, 2, 10, 0
conv = Conv2D(channels, FILTERS, KERNEL)
maps_h, maps_w = conv.output_shape(height, width)
flat = FILTERS * (maps_h // POOL) * (maps_w // POOL)
net = Sequential(
    [conv, ReLU(), MaxPool2D(POOL), Flatten(), Dense(flat, CLASSES)], loss="softmax-cross-entropy", seed=SEED
)
lesson.code(f"""net = Sequential([Conv2D({channels}, {FILTERS}, {KERNEL}), ReLU(), MaxPool2D({POOL}), Flatten(),
                 Dense({flat}, {CLASSES})], loss="softmax-cross-entropy", seed={SEED})""")

rows, a = [], digits.X_test[:1]
names = [
    "convolution (step 1)",
    "ReLU (step 1(b))",
    "max pooling (step 2)",
    "flattening (step 3)",
    "full connection (step 4)",
]
for name, layer in zip(names, net.layers):
    a = layer.forward(a)
    count = sum(p.size for p in layer.parameters().values())
    rows.append([name, repr(layer), " x ".join(map(str, a.shape[1:])), count])
total = sum(r[-1] for r in rows)
rows.append(["softmax and cross-entropy (lesson 14)", "", f"{CLASSES} probabilities", 0])
lesson.table(
    ["step", "layer", "output of one image", "weights and biases"],
    rows,
    caption=f"The layers, the shape of what each hands on for one {height} x {width} "
    f"image, and the number of parameters: {total:,} in all.",
)
mlp = Sequential([Dense(height * width, 30), Sigmoid(), Dense(30, CLASSES), Sigmoid()], seed=SEED)
mlp_total = sum(p.size for p in mlp.parameters().values())
lesson.markdown(
    f"The network has {total:,} parameters, {sum(p.size for p in conv.parameters().values())} of "
    f"them in the detectors. Lesson 6's fully connected network for the same images, "
    f"{height * width}-30-{CLASSES}, has {mlp_total:,}: the convolutional layer uses each "
    "detector's nine weights at every position of the image instead of a weight per pixel."
)

# %% [markdown]
# ## Training
#
# The same split as lesson 6 (the test images are never trained on), mini-batches of 32
# images, learning rate $\eta = 0.5$.

# %%
EPOCHS, BATCH, ETA = 20, 32, 0.5
start = conv.weight.copy()  # the random detectors, before training
start_maps = net.layers[1].forward(conv.forward(digits.X_train))
start_active = (start_maps.reshape(len(start_maps), FILTERS, -1).max(axis=2) > 0).mean(axis=0)
net.fit(
    digits.X_train, digits.y_train, epochs=EPOCHS, lr=ETA, batch_size=BATCH, X_test=digits.X_test, y_test=digits.y_test
)
acc = np.array(net.history["val_accuracy"])  # X_test, y_test: the held-out set, after each epoch
loss = np.array(net.history["loss"])  # the running training cost: the mean over each epoch's batches
guess = net.predict(digits.X_test)
right = int(np.sum(guess == digits.y_test))
final = net.accuracy(digits.X_test, digits.y_test)
lesson.markdown(
    f"After one epoch the network recognises {100 * acc[0]:.1f}% of the test digits; after "
    f"{EPOCHS} epochs its **test accuracy is {final:.4f}**: {right} of the {len(guess)} test "
    f"images right. Its best epoch was epoch {int(np.argmax(acc)) + 1}, at {acc.max():.4f}. The "
    f"running training cost, the mean cross-entropy over the {len(digits.X_train)} training images "
    f"as each mini-batch met them, fell from {loss[0]:.4f} in the first epoch to {loss[-1]:.4f} in the last."
)

fig = learning_curves(acc, loss, len(guess), len(digits.X_train), "cross-entropy", integer_epochs=True)
curve = lesson.figure(
    fig,
    "learning_curve",
    f"The CNN learning: test accuracy after each epoch and the training cost "
    f"during it (mini-batches of {BATCH}, $\\eta = {ETA:g}$, seed {SEED}).",
    width=0.95,
)
lesson.markdown(f"{curve} is its learning curve.")

# %% [markdown]
# ## What it learned
#
# The detectors started as random numbers (step 1 of training: small, close to 0, not 0).
# Training turned them into the eight feature detectors below. And here is what they see in one
# test image: its eight feature maps after convolution and ReLU, the same maps after pooling,
# and the probabilities the network gives each digit.

# %%
SAMPLE = 0
x = digits.X_test[SAMPLE : SAMPLE + 1]
maps = net.layers[1].forward(net.layers[0].forward(x))  # conv2d.layer_forward, relu.forward
pooled = net.layers[2].forward(maps)
probs = net.loss_fn.probabilities(net.forward(x))[0]
label, predicted = int(digits.y_test[SAMPLE]), int(np.argmax(probs))
detectors = net.layers[0].weight[:, 0]

fig = Figure(figsize=(10, 6.6))
grid = fig.add_gridspec(4, FILTERS + 2, left=0.02, right=0.99, top=0.95, bottom=0.08, hspace=0.45, wspace=0.25)
ax = fig.add_subplot(grid[1:3, 0:2])
ax.imshow(x[0, 0], cmap="Greys", vmin=0, vmax=1)
ax.set_title(f"test image {SAMPLE + 1}: a {label}", fontsize=10)
ax.set_xticks([])
ax.set_yticks([])
lim = float(np.abs(detectors).max())
top = float(maps.max())
for f in range(FILTERS):
    for row, (img, cmap, vmin, vmax, title) in enumerate(
        [
            (detectors[f], "RdBu", -lim, lim, f"{f + 1}"),
            (maps[0, f], "Blues", 0, top, "map"),
            (pooled[0, f], "Blues", 0, top, "pooled"),
        ]
    ):
        ax = fig.add_subplot(grid[row, f + 2])
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0 and f == 0:  # the row's name once, its detectors numbered 1 to 8 above them
            ax.set_ylabel("detector", rotation=0, ha="right", va="center")
ax = fig.add_subplot(grid[3, 2:])
ax.bar(np.arange(CLASSES), probs, color=["tab:green" if d == predicted else "0.6" for d in range(CLASSES)])
ax.set_xticks(np.arange(CLASSES))
ax.set_xlabel("digit")
ax.set_ylabel("probability")
ax.set_ylim(0, 1)
inside = lesson.figure(
    fig,
    "inside",
    f"Inside the trained CNN: the eight learned detectors (red "
    f"negative, blue positive), the feature maps of test image {SAMPLE + 1} after "
    "convolution and ReLU, after max pooling, and the probabilities of the "
    "ten digits.",
    width=0.95,
)
strongest = int(np.argmax(pooled[0].reshape(FILTERS, -1).max(axis=1)))
silent = [f + 1 for f in range(FILTERS) if maps[0, f].max() == 0]
all_maps = net.layers[1].forward(net.layers[0].forward(digits.X_test))
active = (all_maps.reshape(len(all_maps), FILTERS, -1).max(axis=2) > 0).mean(axis=0)  # per detector
moved = float(np.abs(detectors - start[:, 0]).mean())
lesson.markdown(
    f"{inside}: test image {SAMPLE + 1} is a {label}, and the network says {predicted} with "
    f"probability {probs[predicted]:.4f}. Training moved the detectors' weights by "
    f"{moved:.3f} on average, from random starting values of average size "
    f"{float(np.abs(start).mean()):.3f}; each is now a small pattern of positive (blue) and "
    "negative (red) weights, and each map shows where its pattern is found in this digit. "
    f"Detector {strongest + 1} responds most strongly here, "
    + (
        f"and detector{'s' * (len(silent) > 1)} {', '.join(map(str, silent))} not at all: ReLU "
        "zeroed the whole map, so for this image nothing passes on from "
        f"{'them' if len(silent) > 1 else 'it'}. "
        if silent
        else "and every detector finds something. "
    )
    + f"The pooled maps, {pooled.shape[2]} x {pooled.shape[3]} each, are what the full "
    f"connection reads: {flat} numbers, from which it votes for one of {CLASSES} digits."
)

dead = [f for f in range(FILTERS) if active[f] == 0]
alive = [f for f in range(FILTERS) if active[f] > 0]
per_detector = np.abs(detectors - start[:, 0]).reshape(FILTERS, -1).mean(axis=1)
if dead:
    lowest = min(active[f] for f in alive)
    stories = []
    for f in dead:
        n_negative = int(np.sum(start[f] < 0))
        stories.append(
            f"Detector {f + 1} started with {n_negative} of its {start[f].size} weights negative; "
            f"with pixels that are never negative (0 to 1) its map was positive somewhere in only "
            f"{100 * start_active[f]:.1f}% of the training images before training. Its first "
            "updates pushed it further down, and once its map is nowhere positive it learns "
            f"nothing more: its weights moved by {float(per_detector[f]):.1e} on average in all of training, "
            f"against {float(per_detector[alive].mean()):.3f} for the others."
        )
    lesson.markdown(
        f"Over all {len(digits.X_test)} test images, detector{'s' * (len(dead) > 1)} "
        f"{', '.join(str(f + 1) for f in dead)} respond{'s' * (len(dead) == 1)} nowhere, while the "
        "others respond somewhere in "
        + ("every image. " if lowest == 1 else f"at least {100 * lowest:.0f}% of the images. ")
        + f"{'These are' if len(dead) > 1 else 'This is a'} *dead* detector{'s' * (len(dead) > 1)}: "
        "no value of the map is positive before ReLU, so ReLU gives 0 everywhere — and, as lesson "
        "9 showed, ReLU passes no error back where its input is not positive, so no gradient "
        "reaches the detector to revive it. "
        + " ".join(stories)
        + f" The network did its work with the other {len(alive)}. A ReLU with a small slope for "
        "negative inputs (leaky ReLU), or another random start, avoids such dead detectors."
    )

# %%
wrong = np.flatnonzero(guess != digits.y_test)
per_digit = [
    (int(np.sum(digits.y_test == d)), int(np.sum((digits.y_test == d) & (guess == d)))) for d in range(CLASSES)
]
lesson.table(
    ["digit"] + [str(d) for d in range(CLASSES)],
    [["test images"] + [t for t, _ in per_digit], ["recognised"] + [c for _, c in per_digit]],
    caption=f"The CNN's test results digit by digit after {EPOCHS} epochs.",
)
lesson.markdown(
    f"It gets {len(wrong)} of the {len(guess)} test images wrong. That is the whole plan of the "
    "lecture, working: convolution finds features, ReLU keeps the ones that are there, pooling "
    "keeps the strongest and makes the maps small, flattening lines them up, and the fully "
    "connected layer, trained by back-propagation together with the detectors, turns them into "
    "an answer."
)
