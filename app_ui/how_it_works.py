"""The "How it works" expander of the Generate, Supernet and Deploy pages: what the numbers
are and the seed talk's idea, in a few sentences a student can follow."""
import streamlit as st

TEXTS = {
    "generate": """
**The idea.** A diffusion model learnt what NB201 cells look like by un-noising random
cells, step by step. While it un-noises, a predictor nudges every step towards cells it
expects to be accurate *and* cheap, so the samples land near the best trade-offs (the
Pareto front) instead of anywhere in the space.

**The numbers.** *Predicted* accuracy comes from the predictor (trained on the other
datasets plus 20 labelled cells of this one), with a 90% interval calibrated on cells
it did not see. *True* accuracy is NB201's table: each cell trained for 200 epochs.
FLOPs, params and memory are computed exactly; device latencies are HW-NAS-Bench's
measurements. **HV ratio** is the share of the true front's hypervolume the samples reach
(1.0 = the whole front).
""",
    "supernet": """
**The idea.** Instead of training every candidate network, train one super-network whose
blocks can be switched off: each cell edge can run its op, become a skip, or be cut, and
each cell of a stage can be dropped. Train it once: first the largest sub-network alone,
then in each step the largest, the smallest and random sub-networks together (the
sandwich rule), so every sub-network inherits weights that already work.

**The numbers.** *Coverage* is the share of the true front's hypervolume that the
super-cell's sub-cells can reach: the super-cell is chosen from the generated cells to
cover the front. During training, *held-out accuracy* is measured on training images the
network never trains on, for the largest and the smallest sub-network.
""",
    "deploy": """
**The idea.** The search is over before you choose: moving a slider only picks another
sub-network of the one trained super-network, so no training happens here. That is the
talk's promise: train once, then switch blocks off to meet the metric you care about.

**The numbers.** Every choice is measured on this machine: FLOPs with thop, latency with
onnxruntime (median of repeated runs, batch 1), accuracy on held-out images after the
sub-network's BatchNorm statistics are re-estimated. Shared-weight accuracy is below what
the same cell reaches trained alone (the NB201 table value shown beside it), and on
1,000 images it is only good to about ±1.5 points.
""",
}


def how_it_works(page: str) -> None:
    with st.expander("How it works", icon=":material/school:"):
        st.markdown(TEXTS[page].strip())
