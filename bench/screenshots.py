"""The README's screenshots of the Generate and Deploy pages, from the real app.

    nagui bench screenshots --home DIR [--out assets/screenshots]

DIR is a user data dir holding a trained, profiled super-network (e.g. the one `nagui
bench pipeline --home DIR` or the Home page's "Build everything missing" made).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", required=True, help="user data dir with a profiled super-network run")
    p.add_argument("--out", default="assets/screenshots")
    args = p.parse_args(argv)

    from playwright.sync_api import expect, sync_playwright

    from nagui.app_server import CHROMIUM, CHROMIUM_ARGS, running_app

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw, running_app({"XDG_DATA_HOME": str(Path(args.home).resolve())}) as app:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 2250})
        pg.set_default_timeout(300_000)
        pg.goto(f"{app.url}/generate")
        pg.get_by_role("button", name="Generate").click()  # defaults: CIFAR-10, accuracy vs FLOPs, NSGA-II beside
        expect(pg.get_by_text(re.compile("Generating .* done in"))).to_be_visible(timeout=300_000)
        pg.wait_for_timeout(2000)
        pg.screenshot(path=str(out / "generate.png"), full_page=True)
        pg.set_viewport_size({"width": 1400, "height": 1800})   # down to the macro network and downloads
        pg.goto(f"{app.url}/deploy")
        expect(pg.get_by_text("Sub-network").first).to_be_visible(timeout=120_000)
        latency = pg.locator('[data-testid="stSlider"]').filter(has_text="Max latency here (ms)").get_by_role("slider")
        latency.focus()
        for _ in range(8):  # a tighter latency limit: blocks switch off
            latency.press("PageDown")
        pg.wait_for_timeout(2500)
        pg.screenshot(path=str(out / "deploy.png"), full_page=True)
        browser.close()
    print(f"wrote {out / 'generate.png'} and {out / 'deploy.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
