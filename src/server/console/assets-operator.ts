/**
 * The operator views' stylesheet and script (issue 17), served after assets.ts's in
 * /assets/console.css and /assets/console.js: the overview's refresh, chart tooltips, the live
 * view, tables as cards on narrow screens, copy buttons.
 */

export const OPERATOR_CSS = `
.ranges ul{list-style:none;margin:0 0 .5rem;padding:0;display:flex;gap:.4rem}
.ranges a{display:inline-block;padding:.25rem .7rem;border:1px solid var(--accent);border-radius:999px;text-decoration:none}
.ranges a[aria-current=true]{background:var(--accent);color:#fff}
.chart-box{position:relative}
.chart rect.hover{fill:transparent;cursor:crosshair}
.chart rect.hover:hover{fill:rgba(11,92,173,.08)}
.chart-tip{position:absolute;top:0;z-index:5;max-width:min(22rem,90%);background:#14233c;color:#fff;font-size:.8rem;line-height:1.3;padding:.35rem .5rem;border-radius:4px;pointer-events:none}
tr.current td{background:#eaf2fb}
.badge.received{background:#eaf2fb;color:var(--accent);border-color:#a9c7ea}
.badge.test{background:#f3ecfb;color:#6a3fb5;border-color:#cdb8ee}
.copy-row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.copy-row code{flex:1 1 16rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.cost{display:flex;flex-direction:column;gap:.15rem;min-width:7rem}
.cost-bar{width:100%;max-width:10rem;height:.5rem;display:block}
.mapping-form fieldset{border:1px solid var(--line);border-radius:6px;margin:1rem 0 0;padding:.6rem .8rem;min-width:0}
.mapping-form legend{font-weight:600;padding:0 .3rem}
.checks{display:flex;flex-wrap:wrap;gap:.3rem 1rem}
.checks input,.check input{width:auto}
.checks label,.check label{display:inline;font-weight:400}
ol.conditions{padding-left:1.2rem;margin:0}
li.condition{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,11rem),1fr));gap:.4rem .8rem;margin:0 0 .6rem}
li.condition .field-error{grid-column:1/-1}
textarea.short{min-height:4rem}
.field-choice input{margin-top:.3rem}
@media (max-width:600px){
  .table-wrap{overflow-x:visible}
  table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
  table.cards{background:transparent}
  table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
  table.cards tr{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0 0 .6rem;padding:.3rem .6rem}
  table.cards td{border:0;position:relative;padding:.25rem 0 .25rem 38%;min-height:1.6rem;word-break:break-word;text-align:left}
  table.cards td.num{text-align:left}
  table.cards td::before{content:attr(data-label);position:absolute;left:0;width:35%;color:var(--muted);font-size:.8rem;font-weight:600}
  table.cards td .actions{margin-top:0}
}
`;

export const OPERATOR_JS = `
(function(){
  "use strict";
  function pad(n){return (n<10?"0":"")+n;}
  function hms(d){return pad(d.getUTCHours())+":"+pad(d.getUTCMinutes())+":"+pad(d.getUTCSeconds());}

  // Tables read as cards on narrow screens: each cell is labelled with its column's heading.
  function labelTables(root){
    (root||document).querySelectorAll(".table-wrap table").forEach(function(table){
      var heads=[].map.call(table.querySelectorAll("thead th"),function(th){return th.textContent.trim();});
      if(!heads.length)return;
      table.classList.add("cards");
      table.querySelectorAll("tbody tr").forEach(function(tr){
        [].forEach.call(tr.children,function(td,i){if(!td.hasAttribute("data-label")&&heads[i]&&!td.hasAttribute("colspan"))td.setAttribute("data-label",heads[i]);});
      });
    });
  }

  // Chart tooltips: the value stretch under the pointer says its time and values.
  function untitle(root){(root||document).querySelectorAll("rect[data-tip] > title").forEach(function(t){t.remove();});}
  document.addEventListener("mouseover",function(e){
    var rect=e.target;if(!(rect instanceof Element)||!rect.matches("rect[data-tip]"))return;
    var box=rect.closest(".chart-box");if(!box)return;
    var tip=box.querySelector(".chart-tip");
    if(!tip){tip=document.createElement("div");tip.className="chart-tip";tip.setAttribute("role","status");box.appendChild(tip);}
    tip.textContent=rect.getAttribute("data-tip");tip.hidden=false;
    var b=box.getBoundingClientRect(),r=rect.getBoundingClientRect();
    var left=r.left-b.left+r.width/2+8;
    tip.style.left=Math.max(0,Math.min(left,b.width-tip.offsetWidth))+"px";
  });
  document.addEventListener("mouseout",function(e){
    var rect=e.target;if(!(rect instanceof Element)||!rect.matches("rect[data-tip]"))return;
    var next=e.relatedTarget;if(next instanceof Element&&next.matches("rect[data-tip]"))return;
    var tip=rect.closest(".chart-box")&&rect.closest(".chart-box").querySelector(".chart-tip");if(tip)tip.hidden=true;
  });

  // The overview: tiles, charts, rate table and destinations come fresh from /overview/parts.
  var root=document.querySelector("[data-refresh-url]");
  function refresh(){
    var st=document.querySelector("[data-refreshed]");
    fetch(root.getAttribute("data-refresh-url"),{credentials:"same-origin",headers:{accept:"text/html"}})
      .then(function(r){if(!r.ok||r.redirected)throw new Error("HTTP "+r.status);return r.text();})
      .then(function(text){
        var doc=new DOMParser().parseFromString(text,"text/html");
        doc.querySelectorAll("[data-live-part]").forEach(function(part){
          var now=document.querySelector('[data-live-part="'+part.getAttribute("data-live-part")+'"]');
          if(now)now.replaceWith(document.importNode(part,true));
        });
        labelTables();untitle();
        if(st)st.textContent="Updated "+hms(new Date())+" UTC";
      })
      .catch(function(){if(st)st.textContent="Could not refresh; retrying";});
  }
  if(root)setInterval(refresh,Number(root.getAttribute("data-refresh-ms"))||10000);

  // Copy buttons: data-copy names the element whose text to copy.
  document.addEventListener("click",function(e){
    var b=e.target;if(!(b instanceof Element))return;b=b.closest("button[data-copy]");if(!b)return;
    var src=document.querySelector(b.getAttribute("data-copy"));if(!src)return;
    var done=function(){b.textContent="Copied";};
    if(navigator.clipboard&&navigator.clipboard.writeText)navigator.clipboard.writeText(src.textContent.trim()).then(done,function(){});
  });

  // The live view.
  var rows=document.querySelector("[data-live-rows]");
  if(rows){
    var MAX=500,paused=false,buffer=[];
    var status=document.querySelector("[data-live-status]"),empty=document.querySelector("[data-live-empty]");
    var form=document.querySelector("[data-live-filters]"),pause=document.querySelector("[data-live-pause]");
    function field(n){var el=form&&form.elements.namedItem(n);return el?String(el.value).trim():"";}
    function shows(tr){
      var type=field("type"),name=field("name").toLowerCase(),user=field("user");
      if(type&&tr.getAttribute("data-type")!==type)return false;
      if(name&&(tr.getAttribute("data-name")||"").toLowerCase().indexOf(name)!==0)return false;
      if(user&&tr.getAttribute("data-user")!==user&&tr.getAttribute("data-anon")!==user)return false;
      return true;
    }
    function filter(){var n=0;[].forEach.call(rows.children,function(tr){tr.hidden=!shows(tr);if(!tr.hidden)n++;});if(empty)empty.hidden=n>0;}
    function cell(tr,label,build){var td=document.createElement("td");td.setAttribute("data-label",label);build(td);tr.appendChild(td);}
    function badge(td,text,cls){var s=document.createElement("span");s.className="badge "+cls;s.textContent=text;td.appendChild(s);}
    function row(it){
      var tr=document.createElement("tr");
      tr.setAttribute("data-type",it.type||"");tr.setAttribute("data-name",it.name||"");tr.setAttribute("data-user",it.user||"");tr.setAttribute("data-anon",it.anonymousId||"");
      tr.setAttribute("data-state",it.state);
      cell(tr,"Time",function(td){var t=document.createElement("time");t.dateTime=it.at;t.textContent=hms(new Date(it.at));td.appendChild(t);});
      cell(tr,"Event",function(td){var a=document.createElement("a");a.href="/events/"+it.eventId;a.textContent=(it.type||"?")+(it.name?": "+it.name:"");td.appendChild(a);
        var d=document.createElement("span");d.className="muted";d.textContent=" #"+it.eventId+" · "+it.destinationId;td.appendChild(d);});
      cell(tr,"User",function(td){td.textContent=it.user||"–";if(it.anonymousId&&it.anonymousId!==it.user){var s=document.createElement("span");s.className="muted";s.textContent=" ("+it.anonymousId+")";td.appendChild(s);}});
      cell(tr,"Outcome",function(td){badge(td,it.state,it.state);if(it.test){td.appendChild(document.createTextNode(" "));badge(td,"test","test");}});
      cell(tr,"Details",function(td){td.textContent=(it.attempt?"attempt "+it.attempt+(it.reason?": ":""):"")+(it.reason||"");});
      return tr;
    }
    function add(items){
      items.forEach(function(it){var tr=row(it);tr.hidden=!shows(tr);rows.insertBefore(tr,rows.firstChild);});
      while(rows.children.length>MAX)rows.removeChild(rows.lastChild);
      filter();
    }
    function say(text){if(status)status.textContent=text;}
    var source=new EventSource("/live/stream");
    source.addEventListener("open",function(){say(paused?"Paused":"Live: receiving");});
    source.addEventListener("error",function(){say("Connection lost; reconnecting…");});
    source.addEventListener("items",function(e){
      var batch=JSON.parse(e.data);
      if(paused){buffer=buffer.concat(batch.items);say("Paused: "+buffer.length+" new since");return;}
      add(batch.items);
      say(batch.skipped?"Live: more events than the view can show; skipped ahead to the newest":"Live: receiving");
    });
    if(pause)pause.addEventListener("click",function(){
      paused=!paused;pause.setAttribute("aria-pressed",String(paused));pause.textContent=paused?"Resume":"Pause";
      if(!paused){add(buffer);buffer=[];say("Live: receiving");}else say("Paused: 0 new since");
    });
    var clear=document.querySelector("[data-live-clear]");
    if(clear)clear.addEventListener("click",function(){while(rows.firstChild)rows.removeChild(rows.firstChild);filter();});
    if(form){form.addEventListener("input",filter);form.addEventListener("change",filter);form.addEventListener("submit",function(e){e.preventDefault();});}
    window.addEventListener("pagehide",function(){source.close();});
  }

  // A mapping's form: only the chosen action's fields show (without a script, all do).
  var actionSelect=document.getElementById("m-action");
  function showFields(){document.querySelectorAll("[data-action-fields]").forEach(function(fs){fs.hidden=fs.getAttribute("data-action-fields")!==actionSelect.value;});}
  if(actionSelect){actionSelect.addEventListener("change",showFields);showFields();}

  labelTables();untitle();
})();
`;
