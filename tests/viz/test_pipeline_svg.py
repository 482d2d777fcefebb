"""The Home page's pipeline picture."""
import xml.etree.ElementTree as ET

from nagui.viz.pipeline import MISSING, READY, STEPS, pipeline_svg

NS = "{http://www.w3.org/2000/svg}"


def test_stages_are_coloured_by_readiness_and_missing_ones_say_so():
    svg = pipeline_svg({"data": True, "predictor": True, "diffusion": True, "generated": False, "supernet": False})
    root = ET.fromstring(svg)
    rects = root.findall(f"{NS}rect")
    assert len(rects) == len(STEPS) == 8
    fills = [r.get("fill") for r in rects]
    # "Generated cells" is green only once a set is generated, not when the prior is ready
    assert fills[:3] == [READY] * 3 and fills[3:] == [MISSING] * 5
    texts = [t.text for t in root.findall(f"{NS}text")]
    assert sum("missing" in t for t in texts) == 5 and "Deploy" in texts
    assert len(root.findall(f"{NS}line")) == len(STEPS) - 1


def test_without_status_nothing_is_called_missing():
    assert "missing" not in pipeline_svg()
