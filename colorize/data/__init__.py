"""Data: robust image reading, `prepare` (images -> shards + manifest), tf.data pipelines, and a NumPy PyDataset for the other Keras backends."""

# Training augmentation (tf.data pipeline and PyDataset alike): a random square of this
# fraction (uniform) up to all of the shorter side, resized to the training size. Down to
# half, so the model also sees faces and objects up to 2x larger than the prepared framing:
# `colorize predict` renders at 256 px, larger than the 64-128 px of training.
MIN_CROP_FRACTION = 0.5
