/**
 * The console's stylesheet and script, served from memory as /assets/console.css and
 * /assets/console.js (a Content-Security-Policy of 'self' forbids inline ones).
 */

export const CONSOLE_CSS = `
:root{--fg:#1d2330;--muted:#5b6474;--bg:#f6f7f9;--card:#fff;--line:#d9dde4;--accent:#0b5cad;--ok:#1b7f3b;--warn:#a35c00;--bad:#b3261e;--focus:#ffbf47}
*{box-sizing:border-box}
html{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0}
a{color:var(--accent)}
a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{background:#14233c;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem}
header.top .brand{font-weight:700;color:#fff;text-decoration:none;margin-right:auto}
header.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .75rem}
header.top nav a{color:#dbe6ff;text-decoration:none;padding:.25rem .1rem;border-bottom:2px solid transparent}
header.top nav a[aria-current=page]{color:#fff;border-bottom-color:#fff}
header.top form{margin:0}
header.top button{background:transparent;color:#dbe6ff;border:1px solid #50607d;padding:.25rem .6rem}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem}
.card>h2:first-child,.card>figcaption:first-child{margin-top:0}
figure{margin:0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,340px),1fr));gap:1rem}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.75rem;margin:0 0 1rem;padding:0}
.stats div{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}
.stats dt{color:var(--muted);font-size:.85rem}
.stats dd{margin:0;font-size:1.4rem;font-weight:600}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#f0f2f5;border:1px solid var(--line);border-radius:4px;padding:.6rem;overflow:auto;max-height:28rem;white-space:pre-wrap;word-break:break-word}
form.stack{display:grid;gap:.8rem;max-width:40rem}
.fields{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,260px),1fr));gap:.8rem 1rem}
label{display:block;font-weight:600;font-size:.9rem;margin-bottom:.2rem}
.hint{display:block;color:var(--muted);font-size:.8rem;font-weight:400}
input,select,textarea{font:inherit;width:100%;padding:.45rem .5rem;border:1px solid #9aa3b2;border-radius:4px;background:#fff;color:var(--fg)}
textarea{min-height:14rem;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
input[aria-invalid=true],select[aria-invalid=true]{border-color:var(--bad);border-width:2px}
.field-error{color:var(--bad);font-size:.85rem;margin:.2rem 0 0}
button,.button{font:inherit;display:inline-block;padding:.45rem .9rem;border-radius:4px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.8rem}
.actions label{margin:0}
.actions input[type=text]{width:auto;flex:1 1 12rem}
.inline{display:inline}
.flash{border-radius:6px;padding:.6rem .9rem;margin:0 0 1rem;border:1px solid}
.flash.ok{background:#e8f5ec;border-color:#9bd0ab}
.flash.error{background:#fdecea;border-color:#f0a8a2}
.flash.info{background:#eaf2fb;border-color:#a9c7ea}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:.1rem .45rem;border-radius:999px;border:1px solid var(--line);background:#eef0f3;white-space:nowrap}
.badge.delivered,.badge.ok{background:#e3f3e8;color:var(--ok);border-color:#9bd0ab}
.badge.failed,.badge.paused,.badge.bad{background:#fdecea;color:var(--bad);border-color:#f0a8a2}
.badge.retrying,.badge.pending,.badge.warn{background:#fff3e0;color:var(--warn);border-color:#f3c98b}
.badge.skipped,.badge.rejected,.badge.dropped{background:#eef0f3;color:var(--muted)}
header.top .who{color:#dbe6ff;font-size:.85rem}
/* A viewer's pages: every action form is hidden (the server refuses their POSTs anyway). */
body.role-viewer main form[method=post]{display:none}
.confirm{border-left:4px solid var(--bad)}
.key-once{font-size:1.05rem;background:#fffbe6;border:2px dashed var(--warn);padding:.6rem;word-break:break-all}
.chart svg{width:100%;height:auto;display:block}
.chart figcaption{font-weight:600;margin-bottom:.3rem}
.legend{display:flex;flex-wrap:wrap;gap:.2rem .9rem;font-size:.8rem;color:var(--muted);margin:.3rem 0 0;padding:0;list-style:none}
.legend span.swatch{display:inline-block;width:.8rem;height:.25rem;vertical-align:middle;margin-right:.3rem}
.s0{background:#0b5cad}.s1{background:#1b7f3b}.s2{background:#b3261e}.s3{background:#a35c00}.s4{background:#6a3fb5}.s5{background:#00838f}
meter{width:8rem}
dl.props{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.props dt{color:var(--muted)}
dl.props dd{margin:0;word-break:break-word}
details{margin:.4rem 0}
summary{cursor:pointer;font-weight:600}
.muted{color:var(--muted)}
footer{max-width:1200px;margin:0 auto;padding:1rem;color:var(--muted);font-size:.8rem}
@media (max-width:600px){
  main{padding:.6rem}
  h1{font-size:1.25rem}
  header.top{padding:.5rem .6rem}
  .stats dd{font-size:1.15rem}
  th,td{padding:.35rem .4rem}
  table.activity thead{position:absolute;left:-9999px}
  table.activity,table.activity tbody,table.activity tr,table.activity td{display:block;width:auto}
  table.activity tr{border-bottom:1px solid var(--line);padding:.4rem 0}
  table.activity td{border:0;padding:.1rem .4rem;text-align:left}
  table.activity td::before{content:attr(data-label) ": ";color:var(--muted);font-size:.8rem}
}
`;

/**
 * The sample picker fills the tester's textarea; the overview, the live view, chart tooltips,
 * card tables and copy buttons are in assets-operator.ts, served in the same file. Pages work
 * without it: each is complete as served.
 */
export const CONSOLE_JS = `
(function(){
  "use strict";
  var picker=document.getElementById("sample");
  var samples=document.getElementById("samples-json");
  if(picker&&samples){
    var list=JSON.parse(samples.textContent||"[]");
    picker.addEventListener("change",function(){
      var s=list.filter(function(x){return x.id===picker.value;})[0];
      var ta=document.getElementById("event");
      if(s&&ta){ta.value=JSON.stringify(s.event,null,2);var note=document.getElementById("sample-note");if(note)note.textContent=s.note;}
    });
  }
})();
`;
