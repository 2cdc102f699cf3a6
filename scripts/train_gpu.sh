#!/usr/bin/env bash
# Train the shipped teacher and student and the Table IV (and V) comparisons on one GPU within a time budget.
#
#   phase 1: the teacher (f81, C32), alone: sharing the GPU with two students made it 3x slower (H200).
#   phase 2: the SCJD student (f27 stride 3, C16, Eq. 8) distilled from that teacher, beside the plain sparse
#            student and the dense-27 student (Table IV); with TABLE_V=1 also the SCJD student with each
#            distillation loss left out (Table V: alpha, beta or gamma = 0).
#
# Each run stops at the last epoch end that fits its share of the budget (train.py --max-minutes). The students
# keep every epoch's checkpoint, and <runs>/table/ gets all of them after the same number of epochs (the fewest
# any distilled student reached), as the paper's tables compare them, and the teacher.
#
#   MINUTES=9 bash scripts/train_gpu.sh runs
#
# Settings (environment): MINUTES (whole budget), TEACHER_SHARE (its part of it), TABLE_V, EPOCH_SIZE, BATCH,
# PYTHON. Batches of 256, not the paper's 1024: a lease trains for about a million poses, a few thousand steps,
# and per pose seen 256 learnt far faster (README, "Batch size at a small budget").
set -euo pipefail
PYTHON=${PYTHON:-python3}
RUNS=${1:-runs}
MINUTES=${MINUTES:-9}
TEACHER_SHARE=${TEACHER_SHARE:-0.55}
common=(--epochs 60 --epoch-size "${EPOCH_SIZE:-100000}" --batch-size "${BATCH:-256}" --lr-decay 0.95
    --checkpoint-minutes 1 --threads 2)
start=$(date +%s)
minutes_left() { $PYTHON -c "print(round($MINUTES - ($(date +%s) - $start) / 60 - ${1:-0}, 2))"; }
mkdir -p "$RUNS"

phase1=$(minutes_left "$MINUTES * (1 - $TEACHER_SHARE)")
echo "phase 1: teacher, $phase1 min"
$PYTHON -m pose_lifting.train --model teacher --out "$RUNS/teacher" --workers 8 --max-minutes "$phase1" \
    "${common[@]}" >"$RUNS/teacher.out" 2>&1

phase2=$(minutes_left 0.3)
distilled=(student)
[[ "${TABLE_V:-0}" == 1 ]] && distilled+=(student_no_emb student_no_attn student_no_temp)
echo "phase 2: ${distilled[*]}, plain and dense-27 students, $phase2 min"
students=(--max-minutes "$phase2" --keep-epochs "${common[@]}")
$PYTHON -m pose_lifting.train --model plain --out "$RUNS/plain" --workers 3 "${students[@]}" >"$RUNS/plain.out" 2>&1 &
$PYTHON -m pose_lifting.train --model dense27 --out "$RUNS/dense27" --workers 2 "${students[@]}" \
    >"$RUNS/dense27.out" 2>&1 &
declare -A left_out=([student]="" [student_no_emb]="--alpha 0" [student_no_attn]="--beta 0" [student_no_temp]="--gamma 0")
for name in "${distilled[@]}"; do
    # shellcheck disable=SC2086  # the weight flags are two words
    $PYTHON -m pose_lifting.train --model student --teacher "$RUNS/teacher/model.pt" --switch-epoch 5 \
        --out "$RUNS/$name" ${left_out[$name]} --workers $((${#distilled[@]} > 1 ? 2 : 6)) "${students[@]}" \
        >"$RUNS/$name.out" 2>&1 &
done
wait

last_epoch() { ls "$1"/model_e*.pt | sed 's/.*model_e0*//; s/\.pt//' | sort -n | tail -1; }
epochs=$(for name in "${distilled[@]}"; do last_epoch "$RUNS/$name"; done | sort -n | head -1)
mkdir -p "$RUNS/table"
cp "$RUNS/teacher/model.pt" "$RUNS/table/teacher.pt"
for name in "${distilled[@]}" plain dense27; do
    reached=$(last_epoch "$RUNS/$name")
    pick=$((reached < epochs ? reached : epochs))
    cp "$RUNS/$name/$(printf 'model_e%03d.pt' "$pick")" "$RUNS/table/$name.pt"
    echo "$name: epoch $pick of $reached reached" | tee -a "$RUNS/table/epochs.txt"
done
