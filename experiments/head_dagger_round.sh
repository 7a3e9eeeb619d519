#!/bin/bash
# One round of re-training a head-planning VLA's grounding head on frames its own policy reaches
# (DAgger for the perception head; notes/rt2-mini-v2.md section 9). Stop the trainer first.
#   experiments/head_dagger_round.sh STEP SEED [RUN]   e.g.  experiments/head_dagger_round.sh 2000 540000
# Records 300 `seen` episodes of checkpoint STEP (episode seeds SEED+i) labelled with the true plan,
# re-trains the head for 600 steps on the expert frames + every round's frames so far (50/50),
# writes it into the checkpoint (a copy of the old one is kept in /tmp), then:
#   rt2 train --preset rt2-mini-v2 --data data/seen3k --out RUN --resume
# (RT2_EXECUTE_STEPS / RT2_MAX_STEPS: actions played per call, episode limit; rounds at steps
# 1,000-2,000 ran 4 / 80, those from 2,500 on 1 / 40, as the policy is now evaluated)
set -euo pipefail
cd "$(dirname "$0")"
STEP=$1 SEED=$2 RUN=${3:-../runs/rt2-mini-v2}
FRAMES=${RT2_ONPOLICY:-/tmp/rt2-onpolicy}
PY=../.venv/bin/python
CK=$RUN/checkpoints/step-$(printf %06d "$STEP")
mkdir -p "$FRAMES"
cp -r "$CK" "/tmp/$(basename "$CK")-before-head-round"
$PY -u plan_source.py --policy "$CK" --episodes 300 --seed "$SEED" --sources head \
    --execute-steps "${RT2_EXECUTE_STEPS:-4}" --max-steps "${RT2_MAX_STEPS:-80}" \
    --record "$FRAMES/r$STEP.npz" 2>&1 | grep -v -i warn | tail -2
$PY - "$FRAMES" <<'PY'
import glob, sys
import numpy as np
files = sorted(glob.glob(f"{sys.argv[1]}/r*-head.npz"))
parts = [np.load(f) for f in files]
keys = ("images", "instructions", "plans")
np.savez(f"{sys.argv[1]}/all.npz", **{k: np.concatenate([p[k] for p in parts]) for k in keys})
print("aggregated", sum(len(p["plans"]) for p in parts), "frames from", files)
PY
rm -f "$FRAMES/all.s16.pt"  # the cached features of the previous aggregate
$PY -u grounded_plan.py --init "$CK" --steps 600 --evals 1 --extra "$FRAMES/all.npz" \
    --extra-share 0.5 --write 2>&1 | grep -v -i warn | tail -2
