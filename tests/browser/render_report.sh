#!/usr/bin/env bash
# Renders an HTML report in headless Chromium (Debian `chromium`) and
# checks what a reader would see:
#   - no script ran: the fixture's verbatims carry <script>, an
#     <img onerror> and javascript: payloads that would set the document
#     title to 'pwned'; the rendered DOM keeps the report's own title and
#     holds no <script> or <img> element (a positive control first proves
#     that a script setting the title is detected in this setup);
#   - the inline SVG charts are in the DOM;
#   - screenshots at desktop and phone width and a printed PDF are made
#     (kept in the build folder: report-render-*.png, report-render.pdf).
# Usage: render_report.sh FEEDMINE SOURCE_DIR OUT_DIR. Exit 77 (skipped)
# when chromium is not installed.
set -u
bin=$1 src=$2 out=$3
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run_browser() { # extra args...
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --user-data-dir="$work/profile" \
    "$@" 2>>"$work/browser.log"
}

# Positive control: a page whose script sets the title is seen as such.
printf '<!DOCTYPE html><html><head><title>original</title></head><body><script>document.title="pwned"</script></body></html>' > "$work/control.html"
run_browser --dump-dom "file://$work/control.html" > "$work/control.dom" ||
  fail "chromium could not render a page (log: $(tail -3 "$work/browser.log"))"
grep -q '<title>pwned</title>' "$work/control.dom" ||
  fail "the positive control did not see its script run; cannot judge"

t=$src/tests/cli/report_tagged
(cd "$work" && "$bin" report --source ticket="$t/tickets.csv" \
  --source nps="$t/nps.csv" --source churn="$t/churn.csv" \
  --source lost_deal="$t/deals.csv" --map lost_deal:text=loss_reason \
  --map lost_deal:date=close_date --accounts "$t/accounts.csv" \
  --title 'Deskly <test>' -o report.html -q) || fail "feedmine report failed"
grep -q 'document.title=&#39;pwned&#39;' "$work/report.html" ||
  fail "the fixture's payload is not in the report"

run_browser --dump-dom "file://$work/report.html" > "$work/report.dom" ||
  fail "chromium could not render the report"
grep -q '<title>Deskly &lt;test&gt;</title>' "$work/report.dom" ||
  fail "the document title changed: a script ran ($(grep -o '<title>[^<]*' "$work/report.dom" | head -1))"
grep -q 'pwned</title>' "$work/report.dom" && fail "a payload set the title"
grep -qi '<script' "$work/report.dom" && fail "a <script> element is in the DOM"
grep -qi '<img' "$work/report.dom" && fail "an <img> element is in the DOM"
grep -q 'invoice PDF please &lt;script&gt;document.title=' "$work/report.dom" ||
  fail "the XSS verbatim is not shown as text"
svgs=$(grep -o '<svg' "$work/report.dom" | wc -l)
[ "$svgs" -ge 4 ] || fail "expected the SVG charts in the DOM, found $svgs"
for id in summary areas requirements reasons emerging review; do
  grep -q "id=\"$id\"" "$work/report.dom" || fail "section #$id missing"
done

mkdir -p "$out"
rm -f "$out"/report-render-*.png "$out/report-render.pdf"
run_browser --screenshot="$out/report-render-desktop.png" --window-size=1200,2400 \
  "file://$work/report.html" >/dev/null || fail "desktop screenshot failed"
run_browser --screenshot="$out/report-render-phone.png" --window-size=390,2400 \
  "file://$work/report.html" >/dev/null || fail "phone screenshot failed"
run_browser --print-to-pdf="$out/report-render.pdf" --no-pdf-header-footer \
  "file://$work/report.html" >/dev/null || fail "printing to PDF failed"
for f in "$out/report-render-desktop.png" "$out/report-render-phone.png"; do
  [ -s "$f" ] && [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "$f is not a PNG"
  [ "$(stat -c %s "$f")" -gt 20000 ] || fail "$f is nearly empty"
done
head -c 5 "$out/report-render.pdf" | grep -q '%PDF-' || fail "no PDF printed"
echo "ok: no script ran, $svgs SVG charts, screenshots and PDF in $out"
