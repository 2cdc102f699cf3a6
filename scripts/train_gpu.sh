#!/usr/bin/env bash
# Train the shipped teacher and student and the Table IV (and V) comparisons on one GPU within a time budget.
#
#   phase 1: the teacher (f81, C32), alone: sharing the GPU with two students made it 3x slower (H200).
#   phase 2: the SCJD student (f27 stride 3, C16, Eq. 8) distilled from that teacher, beside the plain sparse
#            student and the dense-27 student (Table IV); DISTILLED adds SCJD students with one distillation
#            loss left out (Table V: student_no_emb, student_no_attn, student_no_temp: alpha, beta or gamma = 0),
#            or student_low_attn: beta = 0.01, which brings L_attn's gradient to L_reg's order (scripts/loss_balance).
#
# Each run stops at the last epoch end that fits its share of the budget (train.py --max-minutes). The students
# keep every epoch's checkpoint, and <runs>/table/ gets all of them after the same number of epochs (the fewest
# any distilled student reached), as the paper's tables compare them, and the teacher.
#
#   MINUTES=9 bash scripts/train_gpu.sh runs
#
# Settings (environment): MINUTES (whole budget), TEACHER_SHARE (its part of it), TEACHER (a trained teacher's
# inference checkpoint, e.g. weights/teacher.pt: no phase 1, the whole budget for the students), DISTILLED
# (default "student"; "student student_no_emb student_no_attn student_no_temp" for all of Table V), COMPILE
# (1: torch.compile, the default; a run whose compiled start fails goes on eagerly), EPOCH_SIZE, BATCH, PYTHON,
# MOTION_AUGMENT (default: the motion augmentation the generalization benchmark chose, docs/results.md; "" for none;
# it makes drawing a batch about 2.6x slower on the CPU, 0.8 s against 0.3 s per 256 windows here: more --workers).
# Batches of 256, not the paper's 1024: a lease trains for about a million poses, a few thousand steps, and per
# pose seen 256 learnt far faster (docs/results.md, "Batch size at a small budget").
set -euo pipefail
PYTHON=${PYTHON:-python3}
RUNS=${1:-runs}
MINUTES=${MINUTES:-9}
TEACHER_SHARE=${TEACHER_SHARE:-0.55}
read -r -a motion_augment <<<"${MOTION_AUGMENT---limb-mix 0.5 --angle-offset 0.5 --orientation 0.2}"
common=("${motion_augment[@]}" --epochs 60 --epoch-size "${EPOCH_SIZE:-100000}" --batch-size "${BATCH:-256}" --lr-decay 0.95
    --checkpoint-minutes 1 --threads 2)
start=$(date +%s)
minutes_left() { $PYTHON -c "print(round($MINUTES - ($(date +%s) - $start) / 60 - ${1:-0}, 2))"; }
mkdir -p "$RUNS"

# run NAME RESERVE ARGS...: train into $RUNS/NAME until RESERVE minutes of the budget are left, compiled when asked
run() {
    local name=$1 reserve=$2
    shift 2
    local train=($PYTHON -m pose_lifting.train --out "$RUNS/$name" "$@")
    if [[ "${COMPILE:-1}" == 1 ]]; then
        "${train[@]}" --max-minutes "$(minutes_left "$reserve")" --compile >"$RUNS/$name.out" 2>&1 && return
        echo "$name: the compiled run failed (see $RUNS/$name.out), going on eagerly" | tee -a "$RUNS/$name.out"
    fi
    "${train[@]}" --max-minutes "$(minutes_left "$reserve")" >>"$RUNS/$name.out" 2>&1
}

if [[ -n "${TEACHER:-}" ]]; then
    echo "phase 1: none, the teacher is $TEACHER"
    mkdir -p "$RUNS/teacher"
    cp "$TEACHER" "$RUNS/teacher/model.pt"
else
    echo "phase 1: teacher, $(minutes_left "$MINUTES * (1 - $TEACHER_SHARE)") min"
    run teacher "$MINUTES * (1 - $TEACHER_SHARE)" --model teacher --workers 8 "${common[@]}"
fi

read -r -a distilled <<<"${DISTILLED:-student}"
echo "phase 2: ${distilled[*]}, plain and dense-27 students, $(minutes_left 0.3) min"
students=(--keep-epochs "${common[@]}")
run plain 0.3 --model plain --workers 3 "${students[@]}" &
run dense27 0.3 --model dense27 --workers 2 "${students[@]}" &
declare -A loss_weights=([student]="" [student_no_emb]="--alpha 0" [student_no_attn]="--beta 0"
    [student_no_temp]="--gamma 0" [student_low_attn]="--beta 0.01")
for name in "${distilled[@]}"; do
    # shellcheck disable=SC2086  # the weight flags are two words
    run "$name" 0.3 --model student --teacher "$RUNS/teacher/model.pt" --switch-epoch 5 ${loss_weights[$name]} \
        --workers $((${#distilled[@]} > 1 ? 2 : 6)) "${students[@]}" &
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
