"""colorize.color.bins: the run-time decoding of bin probabilities (pooling, strength, annealed mean)."""

import numpy as np
import pytest

from colorize.color import bins


def _bin(a, b):
    return int(np.argmin(np.abs(bins.gamut_bins() - np.array([a, b], np.float32)).sum(axis=1)))


def _two_mode_probabilities(shape, first_share):
    """Probabilities over a red and a green bin (plus a little of everything) with a per-pixel share."""
    count = len(bins.gamut_bins())
    probabilities = np.full(shape + (count,), 0.02 / count, np.float32)
    probabilities[..., _bin(60, 40)] += 0.98 * first_share
    probabilities[..., _bin(-50, 40)] += 0.98 * (1 - first_share)
    return probabilities


def test_without_pooling_it_is_the_models_annealed_mean_layer():
    from colorize.models.classification import AnnealedMean

    rng = np.random.default_rng(0)
    count = len(bins.gamut_bins())
    probabilities = rng.dirichlet(np.full(count, 0.3), size=(2, 6, 5)).astype(np.float32)
    prior = rng.normal(0, 0.5, count).astype(np.float32)
    layer = AnnealedMean(0.38, log_prior=prior)
    expected = np.asarray(layer(probabilities))
    decoding = bins.Decoding(0.38, tuple(prior), strength=bins.DEFAULT_STRENGTH, pooling=0, entropy_band=None,
                             unsure_band=None)  # fmt: skip
    np.testing.assert_allclose(decoding.decode(probabilities, np.zeros((2, 12, 10, 1))), expected, atol=1e-5)


def test_pooling_makes_a_flat_region_choose_one_colour_and_stops_at_an_edge():
    rng = np.random.default_rng(1)
    share = np.where(rng.random((32, 32)) < 0.5, 0.6, 0.4)  # each pixel unsure, red or green at random
    share[:, 16:] = 0.8 - share[:, 16:] * 0.5  # right half: red is likelier throughout
    share[:, :16] = 0.2 + share[:, :16] * 0.5 - 0.25  # left half: green is likelier throughout
    probabilities = _two_mode_probabilities((1, 32, 32), share)
    l_scaled = np.full((1, 32, 32, 1), -0.6, np.float32)
    l_scaled[:, :, 16:] = 0.6  # an edge in lightness between the halves
    plain = bins.Decoding(pooling=0).decode(probabilities, l_scaled)[0, ..., 0]
    pooled = bins.Decoding(pooling=bins.POOLING).decode(probabilities, l_scaled)[0, ..., 0]
    noisy = _two_mode_probabilities((1, 32, 32), np.where(rng.random((32, 32)) < 0.5, 0.55, 0.45))
    noisy_plain = bins.Decoding(pooling=0).decode(noisy, np.zeros((1, 32, 32, 1)))[0, ..., 0]
    noisy_pooled = bins.Decoding(pooling=bins.POOLING).decode(noisy, np.zeros((1, 32, 32, 1)))[0, ..., 0]
    assert (noisy_plain > 0.05).any() and (noisy_plain < -0.05).any()  # red and green blotches
    assert (noisy_pooled > 0).all() or (noisy_pooled < 0).all()  # one colour for the flat region
    assert noisy_pooled.std() < 0.2 * noisy_plain.std()
    assert (pooled[:, 18:] > 0).all() and (pooled[:, :14] < 0).all()  # each side of the edge keeps its own
    assert plain[:, 18:].std() > pooled[:, 18:].std()


def test_strength_scales_the_prior_from_none_to_double():
    rng = np.random.default_rng(2)
    count = len(bins.gamut_bins())
    probabilities = rng.dirichlet(np.full(count, 0.5), size=(1, 4, 4)).astype(np.float32)
    prior = np.linalg.norm(bins.gamut_bins(), axis=1) / 40.0  # favours saturated bins
    chroma = []
    for strength in (0.0, 0.5, 1.0):
        ab = bins.Decoding(log_prior=tuple(prior), strength=strength, pooling=0).decode(probabilities, np.zeros((1, 8, 8, 1)))
        chroma.append(float(np.linalg.norm(ab, axis=-1).mean()))
    assert chroma[0] < chroma[1] < chroma[2]
    without_prior = bins.Decoding(pooling=0).decode(probabilities, np.zeros((1, 8, 8, 1)))
    np.testing.assert_allclose(
        bins.Decoding(log_prior=tuple(prior), strength=0.0, pooling=0).decode(probabilities, np.zeros((1, 8, 8, 1))),
        without_prior, atol=1e-6,
    )  # fmt: skip


def test_entropy_aware_a_sure_location_gets_twice_the_strength_an_unsure_one_the_strength_as_set(monkeypatch):
    count = len(bins.gamut_bins())
    probabilities = np.full((1, 3, 2, count), 1.0 / count, np.float32)  # unsure: normalized entropy 1
    probabilities[0, 0, 0] = 0.1 / (count - 2)
    probabilities[0, 0, 0, [_bin(10, 10), _bin(40, 40)]] = 0.45  # sure of two colours: entropy 0.27 of log Q
    prior = tuple(np.linalg.norm(bins.gamut_bins(), axis=1) / 40.0)  # favours saturated bins
    l_scaled = np.zeros((1, 6, 4, 1), np.float32)

    def decoded(**options):
        options.setdefault("entropy_band", bins.ENTROPY_BAND)
        return bins.Decoding(log_prior=prior, pooling=0, **options).decode(probabilities, l_scaled)[0]

    aware = decoded(strength=0.25)
    # The default decoding gives every location the strength as set (judged: docs/studies.md).
    default = bins.Decoding(log_prior=prior, pooling=0, strength=0.25).decode(probabilities, l_scaled)[0]
    np.testing.assert_allclose(default, decoded(strength=0.25, entropy_band=None), atol=1e-6)
    np.testing.assert_allclose(aware[0, 0], decoded(strength=0.5, entropy_band=None)[0, 0], atol=1e-6)
    np.testing.assert_allclose(aware[1:], decoded(strength=0.25, entropy_band=None)[1:], atol=1e-6)
    assert np.linalg.norm(aware[0, 0]) > np.linalg.norm(decoded(strength=0.25, entropy_band=None)[0, 0])
    np.testing.assert_allclose(decoded(strength=1.0), decoded(strength=1.0, entropy_band=None), atol=1e-6)
    # Decoded in blocks of locations at any working size: the same numbers.
    monkeypatch.setattr(bins, "_BLOCK", 4)
    np.testing.assert_allclose(decoded(strength=0.25), aware, atol=1e-6)
    with pytest.raises(ValueError, match="entropy_band must be"):
        bins.Decoding(entropy_band=(0.7, 0.5))


def test_an_unsure_location_fades_toward_neutral_a_sure_one_keeps_its_colour():
    count = len(bins.gamut_bins())
    probabilities = np.full((1, 2, 2, count), 1e-6, np.float32)
    probabilities[0, 0, :, _bin(30, 20)] = 1.0  # sure: entropy ~0
    probabilities[0, 1] = np.linspace(1.0, 2.0, count) / np.linspace(1.0, 2.0, count).sum()  # unsure: entropy ~0.99
    l_scaled = np.zeros((1, 4, 4, 1), np.float32)

    def decoded(**options):
        return bins.Decoding(pooling=0, **options).decode(probabilities, l_scaled)[0]

    unfaded, faded = decoded(unsure_band=None), decoded()
    assert np.linalg.norm(unfaded[1], axis=-1).min() > 0.01  # the broad distribution's mean has a colour
    np.testing.assert_allclose(faded[0], unfaded[0], atol=1e-6)
    np.testing.assert_allclose(faded[1], (1 - bins.UNSURE_FADE) * unfaded[1], atol=1e-6)
    np.testing.assert_allclose(decoded(unsure_fade=0.0), unfaded, atol=1e-6)
    # linear between the band's ends: over (0, 1) at fade 0.5, 1 - H / 2 of the colour is left
    unsure = probabilities[0, 1, 0].astype(np.float64)
    entropy = -(unsure * np.log(unsure)).sum() / np.log(count)
    np.testing.assert_allclose(decoded(unsure_band=(0.0, 1.0), unsure_fade=0.5)[1], (1 - entropy / 2) * unfaded[1],
                               atol=1e-5)  # fmt: skip
    with pytest.raises(ValueError, match="unsure_band must be"):
        bins.Decoding(unsure_band=(0.8, 0.6))
    with pytest.raises(ValueError, match="unsure_fade must be"):
        bins.Decoding(unsure_fade=1.5)


@pytest.mark.parametrize("strength", [-0.1, 1.5])
def test_strength_outside_zero_to_one_is_refused(strength):
    with pytest.raises(ValueError, match="strength must be in"):
        bins.Decoding(strength=strength)


def test_guided_filter_keeps_a_constant_and_follows_the_guide():
    guide = np.zeros((20, 20), np.float32)
    guide[:, 10:] = 1.0
    constant = np.full((20, 20, 3), 0.25, np.float32)
    np.testing.assert_allclose(bins.guided_filter(guide, constant, 4, 1e-2), constant, atol=1e-5)
    step = np.repeat(guide[..., None], 2, axis=-1)  # values that follow the guide's edge stay sharp
    filtered = bins.guided_filter(guide, step, 4, 1e-4)
    assert filtered[:, :8].max() < 0.05 and filtered[:, 12:].min() > 0.95


def test_the_fast_guided_filter_matches_the_exact_one_for_a_large_window():
    rng = np.random.default_rng(3)
    guide = np.zeros((96, 128), np.float32)
    guide[:, 64:] = 0.8  # two regions
    guide += rng.normal(0, 0.02, guide.shape).astype(np.float32)
    values = rng.dirichlet(np.full(6, 0.5), size=(96, 128)).astype(np.float32)
    values[:, 64:, 0] += 0.5  # the right region favours one channel
    exact = bins.guided_filter(guide, values, 16, 1e-2)
    fast = bins.guided_filter(guide, values, 16, 1e-2, subsample=4)
    assert np.abs(fast - exact).mean() < 0.01 * np.abs(exact).mean() + 1e-3
    assert fast[:, 70:, 0].mean() > fast[:, :58, 0].mean() + 0.3  # the edge still separates the regions


def test_the_fast_guided_filter_takes_any_size_and_every_bin_at_once():
    # A grid that the subsampling does not divide, with all 261 bins (OpenCV alone resizes at
    # most 4 channels by such a ratio and box-filters at most 128).
    rng = np.random.default_rng(5)
    guide = np.zeros((45, 62), np.float32)
    guide[:, 30:] = 0.8  # two regions
    guide += rng.normal(0, 0.02, guide.shape).astype(np.float32)
    values = rng.dirichlet(np.full(len(bins.gamut_bins()), 0.3), size=(45, 62)).astype(np.float32)
    fast = bins.guided_filter(guide, values, 12, 1e-2, subsample=4, floor=1e-12)
    exact = bins.guided_filter(guide, values, 12, 1e-2)
    assert fast.shape == values.shape and fast.min() >= 1e-12
    assert np.abs(fast - exact).mean() < 0.02 * np.abs(exact).mean()
