"""Model report: parameters and MFLOPs of every configuration of the paper's Table VI (and Table IV's
baselines), beside the paper's figures.

    python -m pose_lifting.report [--json]

Counting convention: one forward pass for one pose (one window), batch 1, no flip test-time
augmentation (flip doubles the cost); FLOPs from torch.utils.flop_counter, i.e. 2 per multiply-add of
every matmul and convolution, element-wise work not counted. "MFLOPs" counts everything, "no attn" leaves out
the attention products (Q K^T and A V), as the paper's figures evidently do; the difference is computed
against that column. Parameters are those used at inference (the FC of Eq. (1) exists only while training
and is not counted).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace

from pose_lifting.model import DENSE27, STUDENT, TEACHER, LifterConfig, PoseLifter, count_flops


@dataclass(frozen=True)
class PaperRow:
    name: str
    config: LifterConfig
    params_m: float  # the paper's figures
    mflops: float
    mpjpe_mm: float | None
    source: str


PAPER_ROWS = (
    PaperRow("teacher f81 C32 L4", TEACHER, 9.60, 1358, 44.3, "Table VI"),
    PaperRow("student f27 C16 L4", STUDENT, 2.80, 171.5, 45.2, "Table VI"),
    PaperRow("student f9 C16 L4", replace(STUDENT, stride=9), 2.79, 81.3, 46.3, "Table VI"),
    PaperRow("student f27 C8 L4", replace(STUDENT, embed_dim=8), 0.71, 42.6, 47.5, "Table VI"),
    PaperRow("student f9 C8 L4", replace(STUDENT, embed_dim=8, stride=9), 0.71, 20.1, 47.8, "Table VI"),
    PaperRow("student f27 C16 L2", replace(STUDENT, depth=2), 1.60, 104.2, 46.8, "Table VI"),
    PaperRow("student f9 C16 L2", replace(STUDENT, depth=2, stride=9), 1.60, 58.8, 47.2, "Table VI"),
    PaperRow("student f3 C16 L4", replace(STUDENT, stride=27), 2.79, 51.2, 47.0, "Table I"),
    PaperRow("PoseFormer f27 C16 (dense, no head)", DENSE27, 2.41, 135.4, 51.4, "Table IV row 1"),
    PaperRow(
        "PoseFormer f81 C16 (dense, no head)", replace(DENSE27, receptive_field=81), 2.43, 406.2, 48.5, "Table IV row 3"
    ),
)


def measure() -> list[dict]:
    rows = []
    for row in PAPER_ROWS:
        model = PoseLifter(row.config)
        params, mflops = model.num_params / 1e6, count_flops(model) / 1e6
        paper_style = count_flops(model, attention_products=False) / 1e6
        rows.append(
            {
                "model": row.name,
                "source": row.source,
                "frames": row.config.num_frames,
                "receptive_field": row.config.receptive_field,
                "params_m": round(params, 3),
                "paper_params_m": row.params_m,
                "params_diff_pct": round(100 * (params - row.params_m) / row.params_m, 1),
                "mflops": round(mflops, 1),
                "mflops_no_attention": round(paper_style, 1),
                "paper_mflops": row.mflops,
                "mflops_diff_pct": round(100 * (paper_style - row.mflops) / row.mflops, 1),
                "paper_mpjpe_mm": row.mpjpe_mm,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rows = measure()
    if parser.parse_args(argv).json:
        print(json.dumps({"convention": __doc__.split("Counting convention: ")[1].strip(), "rows": rows}, indent=2))
        return
    print(
        f"{'model':38s} {'source':15s} {'f':>3s} {'RF':>3s} {'params M':>9s} {'paper':>6s} {'diff':>6s} "
        f"{'MFLOPs':>8s} {'no attn':>8s} {'paper':>7s} {'diff':>7s}"
    )
    for r in rows:
        print(
            f"{r['model']:38s} {r['source']:15s} {r['frames']:3d} {r['receptive_field']:3d} {r['params_m']:9.3f} "
            f"{r['paper_params_m']:6.2f} {r['params_diff_pct']:5.1f}% {r['mflops']:8.1f} "
            f"{r['mflops_no_attention']:8.1f} {r['paper_mflops']:7.1f} {r['mflops_diff_pct']:6.1f}%"
        )
    print("\nCounting convention:", " ".join(__doc__.split("Counting convention: ")[1].split()))


if __name__ == "__main__":
    main()
