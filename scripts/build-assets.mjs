// Build Casework's front-end assets into casework/static/dist/ (gitignored).
//
//   npm ci --ignore-scripts --no-audit --no-fund && npm run build
//
// - compiles assets/scss/app.scss -> casework/static/dist/app.css (Dart Sass)
// - copies the GOV.UK Frontend and MOJ Frontend ES module bundles and our
//   own modules (assets/js/app.mjs, session-timeout.mjs) into casework/static/dist/
// - copies only the images the compiled CSS actually references into
//   casework/static/dist/assets/images/ (never the GDS fonts, never GOV.UK's
//   crown/crest, logos or favicons)
// - writes casework/static/dist/build-info.json
//
// No dependencies other than `sass`. Exits non-zero on any error.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nodeModules = path.join(root, "node_modules");
const govukDir = path.join(nodeModules, "govuk-frontend", "dist", "govuk");
const mojDir = path.join(nodeModules, "@ministryofjustice", "frontend", "moj");
const dist = path.join(root, "casework", "static", "dist");
const distImages = path.join(dist, "assets", "images");

// URL prefix the SCSS configures with $moj-assets-path (-> $govuk-images-path).
const imagesUrlPrefix = "/static/dist/assets/images/";

// Where referenced images may come from, in order of preference.
const imageSources = [path.join(govukDir, "assets", "images"), path.join(mojDir, "assets", "images")];

// GOV.UK / MOJ brand images that must never be shipped, even if referenced.
const forbiddenImage = /crown|crest|logo|favicon|govuk-icon|opengraph|apple-touch/i;

function fail(message) {
  throw new Error(message);
}

function readPackageVersion(packageDir) {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8"));
  return manifest.version;
}

function copy(from, to) {
  if (!existsSync(from)) {
    fail(`missing ${path.relative(root, from)} (did you run "npm ci"?)`);
  }
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function build() {
  const started = Date.now();
  for (const dir of [govukDir, mojDir]) {
    if (!existsSync(dir)) {
      fail(`missing ${path.relative(root, dir)}: run "npm ci --ignore-scripts --no-audit --no-fund" first`);
    }
  }

  // Start from a clean output directory so nothing stale survives.
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(distImages, { recursive: true });

  // 1. Stylesheet.
  const warnings = [];
  const result = sass.compile(path.join(root, "assets", "scss", "app.scss"), {
    style: "compressed",
    loadPaths: [root],
    quietDeps: true,
    sourceMap: false,
    logger: {
      warn(message, options) {
        const kind = options.deprecation ? "Sass DEPRECATION WARNING" : "Sass WARNING";
        const stack = options.stack ? `\n${options.stack.trimEnd().replace(/^/gm, "    ")}` : "";
        warnings.push(`${kind}: ${message}${stack}`);
      },
      debug(message) {
        process.stderr.write(`Sass DEBUG: ${message}\n`);
      },
    },
  });
  for (const warning of warnings) {
    process.stderr.write(`${warning}\n`);
  }
  const css = result.css;

  if (css.includes("GDS Transport")) fail("app.css mentions GDS Transport");
  if (css.includes("@font-face")) fail("app.css contains an @font-face rule");
  writeFileSync(path.join(dist, "app.css"), css);

  // 2. Images referenced by the CSS.
  const urls = new Set();
  for (const match of css.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
    urls.add(match[2]);
  }
  const images = [];
  for (const url of [...urls].sort()) {
    if (url.startsWith("data:") || url.startsWith("#")) continue;
    if (!url.startsWith(imagesUrlPrefix)) {
      fail(`app.css references ${url}, which is not under ${imagesUrlPrefix}`);
    }
    const name = url.slice(imagesUrlPrefix.length).split(/[?#]/)[0];
    if (name.includes("/") || name.includes("\\") || name === "" || name.startsWith(".")) {
      fail(`unexpected image path in app.css: ${url}`);
    }
    if (forbiddenImage.test(name)) {
      fail(`app.css references a GOV.UK/MOJ brand image (${name}); it must not be shipped`);
    }
    const source = imageSources.map((dir) => path.join(dir, name)).find((candidate) => existsSync(candidate));
    if (!source) fail(`app.css references ${url} but no package provides ${name}`);
    copy(source, path.join(distImages, name));
    images.push(name);
  }

  // 3. JavaScript: two self-contained ES module bundles plus our own modules.
  //    The bundles end with a sourceMappingURL comment, so ship the maps too.
  const scripts = [
    [path.join(govukDir, "govuk-frontend.min.js"), "govuk-frontend.min.js"],
    [path.join(govukDir, "govuk-frontend.min.js.map"), "govuk-frontend.min.js.map"],
    [path.join(mojDir, "moj-frontend.min.js"), "moj-frontend.min.js"],
    [path.join(mojDir, "moj-frontend.min.js.map"), "moj-frontend.min.js.map"],
    [path.join(root, "assets", "js", "app.mjs"), "app.mjs"],
    [path.join(root, "assets", "js", "session-timeout.mjs"), "session-timeout.mjs"],
  ];
  for (const [from, name] of scripts) {
    copy(from, path.join(dist, name));
  }

  // 4. Build info.
  const versions = {
    "govuk-frontend": readPackageVersion(path.join(nodeModules, "govuk-frontend")),
    "@ministryofjustice/frontend": readPackageVersion(path.join(nodeModules, "@ministryofjustice", "frontend")),
    sass: readPackageVersion(path.join(nodeModules, "sass")),
  };
  const buildInfo = {
    packages: versions,
    files: {
      css: "app.css",
      js: scripts.map(([, name]) => name).filter((name) => !name.endsWith(".map")),
      images,
    },
    css_bytes: Buffer.byteLength(css),
    sass_warnings: warnings.length,
  };
  writeFileSync(path.join(dist, "build-info.json"), `${JSON.stringify(buildInfo, null, 2)}\n`);

  const kb = (Buffer.byteLength(css) / 1024).toFixed(1);
  console.log(
    `assets: app.css ${kb} KB, ${scripts.length - 2} JS files, ${images.length} images, ` +
      `${warnings.length} Sass warning(s) -> ${path.relative(root, dist)}/ ` +
      `(govuk-frontend ${versions["govuk-frontend"]}, moj ${versions["@ministryofjustice/frontend"]}, sass ${versions.sass}) ` +
      `in ${Date.now() - started} ms`,
  );
}

try {
  build();
} catch (error) {
  process.stderr.write(`build-assets: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
