"""Screen model on the labelled cartel markets: grouped 5-fold CV per market and leave-one-market-out."""

from __future__ import annotations

import time

from collusion import datasets, model_eval
from collusion.screen_model import SHIPPED_VARIANT, VARIANTS

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
    v = VARIANTS[SHIPPED_VARIANT]
    started = time.perf_counter()
    table = model_eval.markdown_table(model_eval.evaluate(arrays, name=SHIPPED_VARIANT))
    return (
        "### Collusion screen model\n\n"
        f"Shipped variant `{SHIPPED_VARIANT}` ({v.description}; {len(v.features)} features), "
        f"{scope}. CV = stratified 5-fold grouped by tender within the market (depth and tree count by "
        "inner 3-fold CV on the training folds only); LOMO = trained on the other markets (depth and "
        "tree count by leaving each training market out in turn), scored on the one left out. PR-AUC "
        "is to be read against the prevalence (a random ranking scores the prevalence). Balanced "
        "accuracy at risk >= 0.5. Floor = plain L2 logistic regression on seven screens, grouped "
        "5-fold ROC-AUC. Other variants, including those with bidder-network features: "
        "`tenderhall collusion benchmark --variant NAME`; all of them are compared in "
        "docs/collusion-model.md.\n\n"
        f"{table}\nEvaluation time {time.perf_counter() - started:.0f} s.\n"
    )
