/** The page's markup and style; its behaviour is ops/dashboard/page/client.ts, served as /dashboard.js. */
export function pageHtml(opts: { intervalSeconds: number; css: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>facepoints dashboard</title>
<style>${opts.css}</style>
<style>${PAGE_CSS}</style>
</head>
<body data-interval-seconds="${opts.intervalSeconds}">
<header>
  <h1>facepoints</h1>
  <nav>
    <button type="button" id="show-run" class="tab active">Run</button>
    <button type="button" id="show-runs" class="tab">Runs</button>
  </nav>
  <label>run <select id="run-select"></select></label>
  <span id="checked"></span>
</header>
<div id="connection" class="banner warn" role="status" hidden></div>
<main id="run-view">
  <div id="stale" class="banner alert" role="alert" hidden></div>
  <section id="status"><dl id="status-fields"></dl></section>
  <section id="batch" hidden><h2>Batch jobs</h2><p id="batch-execution" class="hint"></p><table id="batch-jobs"></table></section>
  <section><h2>Learning curves</h2><p class="hint">RMSE in pixels per epoch, train and dev, one chart per unit; the dashed line is the mean predictor's, known once the run has loaded its data.</p><div id="charts"></div></section>
  <section id="done" hidden>
    <h2>Models</h2><table id="models"></table>
    <h2>Per keypoint (dev RMSE, px)</h2><table id="keypoints"></table>
    <h2>Best and worst faces</h2><div id="faces"></div>
  </section>
</main>
<main id="runs-view" hidden>
  <h2>Runs</h2><p class="hint">Best dev RMSE per model, wall time and cost of every run in the store.</p>
  <table id="runs"></table>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #1d2430; color: #fff; }
header h1 { font-size: 1.1em; margin: 0; }
header select { font: inherit; }
#checked { margin-left: auto; opacity: .7; font-size: .9em; }
.tab { font: inherit; background: none; color: #fff; border: 1px solid transparent; padding: .2em .7em; cursor: pointer; }
.tab.active { border-color: #fff; border-radius: 4px; }
main { padding: 0 1.2em 2em; }
h2 { font-size: 1em; margin: 1.4em 0 .4em; }
.hint { margin: 0 0 .6em; color: #5a6475; }
.banner { padding: .6em 1.2em; font-weight: 600; }
.banner.warn { background: #fff4ce; color: #6b4e00; }
.banner.alert { background: #fde2e1; color: #8a1c17; margin: 1em 0 0; border-radius: 4px; }
#status-fields { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .2em 1em; margin: 1em 0 0; }
#status-fields dt { color: #5a6475; }
#status-fields dd { margin: 0; font-variant-numeric: tabular-nums; }
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1em; }
.chart { background: #fff; border: 1px solid #dde1e7; border-radius: 4px; padding: .5em; }
.chart h3 { font-size: .95em; margin: 0 0 .2em; }
.chart .last { color: #5a6475; font-size: .9em; margin: .2em 0 0; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #dde1e7; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#faces img { max-width: 100%; border: 1px solid #dde1e7; }
`;
