"""Checks on the compiled front-end assets in casework/static/dist/.

The assets are build output (gitignored): `make assets` runs
`npm ci --ignore-scripts --no-audit --no-fund && npm run build`, and the test
run always builds first, so a missing file here means the build is broken.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "casework" / "static"
DIST = STATIC / "dist"

BRAND_COLOUR = "#0b4f6c"
URL_RE = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""")


def _dist_file(name: str) -> Path:
    path = DIST / name
    if not path.is_file():
        pytest.fail(
            f"{path.relative_to(ROOT)} is missing: the asset build is broken. "
            "Run `make assets` (npm ci --ignore-scripts --no-audit --no-fund "
            "&& npm run build)."
        )
    return path


def _css() -> str:
    return _dist_file("app.css").read_text(encoding="utf-8")


def test_css_has_no_gds_transport_font() -> None:
    css = _css()
    assert "GDS Transport" not in css
    assert "@font-face" not in css


def test_css_uses_brand_colour() -> None:
    assert BRAND_COLOUR in _css().lower()


def test_css_urls_resolve_to_static_files() -> None:
    urls = [match.group(2) for match in URL_RE.finditer(_css())]
    static_urls = sorted({url for url in urls if url.startswith("/static/")})
    assert static_urls, "expected app.css to reference at least one /static/ image"
    missing = [
        url
        for url in static_urls
        if not (STATIC / url.removeprefix("/static/").split("?")[0]).is_file()
    ]
    assert not missing, f"app.css references files that are not under casework/static/: {missing}"


def test_no_govuk_brand_assets_in_dist() -> None:
    _dist_file("app.css")
    shipped = [p.name for p in DIST.rglob("*") if p.is_file()]
    forbidden = [
        n for n in shipped if re.search(r"crown|crest|favicon|govuk-icon|logotype|\.woff2?$", n)
    ]
    assert not forbidden, f"GOV.UK/MOJ brand assets or GDS fonts must not be shipped: {forbidden}"


def test_js_bundles_are_local_es_modules() -> None:
    app = _dist_file("app.mjs").read_text(encoding="utf-8")
    _dist_file("govuk-frontend.min.js")
    _dist_file("moj-frontend.min.js")
    _dist_file("session-timeout.mjs")
    imports = re.findall(r"""\bfrom\s+["']([^"']+)["']""", app)
    assert sorted(imports) == [
        "./govuk-frontend.min.js",
        "./moj-frontend.min.js",
        "./session-timeout.mjs",
    ]
    assert "//" not in "".join(imports), "app.mjs must not import from a CDN"


def test_build_info_lists_package_versions() -> None:
    info = json.loads(_dist_file("build-info.json").read_text(encoding="utf-8"))
    assert info["packages"]["govuk-frontend"] == "6.3.0"
    assert info["packages"]["@ministryofjustice/frontend"] == "11.1.0"


def test_own_favicon_exists() -> None:
    favicon = (STATIC / "images" / "favicon.svg").read_text(encoding="utf-8")
    assert BRAND_COLOUR in favicon.lower()
