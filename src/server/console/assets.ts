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
 * Charts refresh by polling /api/series with the session cookie and redrawing each
 * <figure data-chart="…"> with the same drawing as the server's (chart.ts); the sample picker
 * fills the tester's textarea. Works without it: the page is complete as served.
 */
export const CONSOLE_JS = `
(function(){
  "use strict";
  var NS="http://www.w3.org/2000/svg";
  var COLORS=["#0b5cad","#1b7f3b","#b3261e","#a35c00","#6a3fb5","#00838f"];
  function el(name,attrs,text){var e=document.createElementNS(NS,name);for(var k in attrs)e.setAttribute(k,attrs[k]);if(text!=null)e.textContent=text;return e;}
  function fmt(v,unit){if(v==null||!isFinite(v))return "–";var a=Math.abs(v);var s=a>=100?v.toFixed(0):a>=10?v.toFixed(1):(a>=1||a===0)?v.toFixed(2):String(Number(v.toPrecision(2)));return s+(unit?" "+unit:"");}
  function draw(fig,series){
    var W=400,H=190,L=44,R=8,T=12,B=26,F="14";
    var svg=fig.querySelector("svg");if(!svg)return;
    while(svg.firstChild)svg.removeChild(svg.firstChild);
    var xs=[],max=0;
    series.forEach(function(s){s.points.forEach(function(p){xs.push(p[0]);if(p[1]!=null&&p[1]>max)max=p[1];});});
    var title=fig.getAttribute("data-title")||"";
    svg.appendChild(el("title",{},title));
    var x0=Math.min.apply(null,xs.length?xs:[0]),x1=Math.max.apply(null,xs.length?xs:[1]);if(x1<=x0)x1=x0+1;
    if(max<=0)max=1;
    var unit=fig.getAttribute("data-unit")||"";
    function X(x){return L+(x-x0)/(x1-x0)*(W-L-R);} function Y(y){return T+(1-y/max)*(H-T-B);}
    svg.appendChild(el("line",{x1:L,y1:H-B,x2:W-R,y2:H-B,stroke:"#9aa3b2"}));
    svg.appendChild(el("line",{x1:L,y1:T,x2:L,y2:H-B,stroke:"#9aa3b2"}));
    svg.appendChild(el("text",{x:L-4,y:T+12,"text-anchor":"end","font-size":F,fill:"#5b6474"},fmt(max,"")));
    svg.appendChild(el("text",{x:L-4,y:H-B,"text-anchor":"end","font-size":F,fill:"#5b6474"},"0"));
    if(xs.length){
      svg.appendChild(el("text",{x:L,y:H-6,"font-size":F,fill:"#5b6474"},new Date(x0).toISOString().slice(11,16)+" UTC"));
      svg.appendChild(el("text",{x:W-R,y:H-6,"text-anchor":"end","font-size":F,fill:"#5b6474"},new Date(x1).toISOString().slice(11,16)+" UTC"));
    } else {
      svg.appendChild(el("text",{x:W/2,y:H/2,"text-anchor":"middle","font-size":F,fill:"#5b6474"},"No data yet"));
    }
    series.forEach(function(s,i){
      var pts=s.points.filter(function(p){return p[1]!=null;}).map(function(p){return X(p[0]).toFixed(1)+","+Y(p[1]).toFixed(1);});
      if(pts.length===1)pts.push(pts[0]);
      if(pts.length)svg.appendChild(el("polyline",{points:pts.join(" "),fill:"none",stroke:COLORS[i%COLORS.length],"stroke-width":"2"}));
    });
    var legend=fig.querySelector(".legend");
    if(legend){
      while(legend.firstChild)legend.removeChild(legend.firstChild);
      series.forEach(function(s,i){var li=document.createElement("li");var sw=document.createElement("span");sw.className="swatch s"+(i%COLORS.length);li.appendChild(sw);
        var last=null;for(var j=s.points.length-1;j>=0;j--){if(s.points[j][1]!=null){last=s.points[j][1];break;}}
        li.appendChild(document.createTextNode(s.name+": "+fmt(last,unit)));legend.appendChild(li);});
    }
  }
  function perSec(p,v){return v/(p.intervalMs/1000);}
  function build(kind,data){
    var pts=data.points;function t(p){return Date.parse(p.at);}
    function line(name,f){return {name:name,points:pts.map(function(p){return [t(p),f(p)];})};}
    switch(kind){
      case "throughput":return [line("in /s",function(p){return perSec(p,p.eventsIn);}),line("delivered /s",function(p){return perSec(p,p.delivered);})];
      case "outcomes":return [line("delivered",function(p){return p.delivered;}),line("skipped",function(p){return p.skipped;}),line("failed",function(p){return p.failed;}),line("retried",function(p){return p.retried;})];
      case "backlog":return [line("backlog",function(p){return p.backlog;})];
      case "age":return [line("oldest pending",function(p){return p.oldestPendingAgeMs==null?0:p.oldestPendingAgeMs/1000;})];
      case "latency":return [line("p50",function(p){return p.latencyP50Ms;}),line("p95",function(p){return p.latencyP95Ms;})];
      case "calls":
        var keys={};pts.forEach(function(p){for(var k in p.calls)keys[k]=1;});
        return Object.keys(keys).sort().map(function(k){return line(k+" /s",function(p){return perSec(p,p.calls[k]||0);});});
    }
    return [];
  }
  function refreshTable(data){
    var body=document.querySelector("[data-rate-table] tbody");if(!body)return;
    while(body.firstChild)body.removeChild(body.firstChild);
    if(!data.endpoints.length){var tr=document.createElement("tr");var td=document.createElement("td");td.colSpan=5;td.textContent="No Sailthru calls in this period.";tr.appendChild(td);body.appendChild(tr);return;}
    data.endpoints.forEach(function(e){
      var tr=document.createElement("tr");
      function cell(text,cls){var td=document.createElement("td");if(cls)td.className=cls;td.textContent=text;tr.appendChild(td);return td;}
      cell(e.endpoint);cell(String(e.calls),"num");cell(fmt(e.peakPerSecond,""),"num");cell(e.limitPerSecond==null?"–":String(e.limitPerSecond),"num");
      var td=cell("");var m=document.createElement("meter");m.min=0;m.max=1;m.low=0.7;m.high=0.9;m.optimum=0;m.value=Math.min(1,e.peakUse||0);
      m.setAttribute("aria-label","rate-limit use of "+e.endpoint);td.appendChild(m);td.appendChild(document.createTextNode(" "+(e.peakUse==null?"–":Math.round(e.peakUse*100)+"%")));
      body.appendChild(tr);
    });
  }
  function poll(){
    var root=document.querySelector("[data-series-url]");if(!root)return;
    fetch(root.getAttribute("data-series-url"),{credentials:"same-origin",headers:{accept:"application/json"}})
      .then(function(r){if(!r.ok)throw new Error("HTTP "+r.status);return r.json();})
      .then(function(data){
        document.querySelectorAll("figure[data-chart]").forEach(function(fig){draw(fig,build(fig.getAttribute("data-chart"),data));});
        refreshTable(data);
        var st=document.querySelector("[data-refreshed]");if(st)st.textContent="Updated "+new Date().toISOString().slice(11,19)+" UTC";
      })
      .catch(function(){var st=document.querySelector("[data-refreshed]");if(st)st.textContent="Could not refresh; retrying";});
  }
  var root=document.querySelector("[data-series-url]");
  if(root){setInterval(poll,Number(root.getAttribute("data-refresh-ms"))||10000);}
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
