"""Screen model on the labelled cartel markets: grouped 5-fold CV per market and leave-one-market-out."""

from __future__ import annotations

import time

from collusion import datasets, model_eval
from collusion.screen_model import FEATURE_SETS, SHIPPED_FEATURE_SET

QUICK_MARKETS = ("Brazil", "Italy")


def run(quick: bool) -> str:
    if not datasets.data_available():
        return (
            "### Collusion screen model\n\nSkipped: labelled data not found in "
            f"`{datasets.default_data_dir()}` (set `${datasets.ENV_VAR}`).\n"
        )
    arrays = model_eval.load_arrays()
    if quick:
        arrays = {m: arrays[m] for m in QUICK_MARKETS}
    scope = f"quick run: {', '.join(QUICK_MARKETS)} only, LOMO among them" if quick else "all four markets"
    parts = [
        "### Collusion screen model\n",
        f"Gradient-boosted trees on screens computed from raw bids ({scope}). CV = stratified 5-fold "
        "grouped by tender within the market (hyperparameters by inner 3-fold CV on the training folds "
        "only); LOMO = trained on the other markets, scored on the one left out. Balanced accuracy at "
        "risk >= 0.5. Floor = plain L2 logistic regression on seven screens, grouped 5-fold ROC-AUC. "
        "See docs/collusion-model.md.\n",
    ]
    for name in [SHIPPED_FEATURE_SET] if quick else sorted(FEATURE_SETS):
        started = time.perf_counter()
        table = model_eval.markdown_table(model_eval.evaluate(arrays, feature_set=name))
        shipped = " (shipped)" if name == SHIPPED_FEATURE_SET else ""
        parts.append(
            f"#### Feature set `{name}`{shipped}: {len(FEATURE_SETS[name])} features\n\n{table}\n"
            f"Evaluation time {time.perf_counter() - started:.0f} s.\n"
        )
    return "\n".join(parts)
