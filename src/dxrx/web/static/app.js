/* dxrx pages: small conveniences on pages that already work without script.
   - "Load the worked example" fills the case box in place.
   - On a work-up, clicking an evidence line or a "source" link marks the cited
     passage of the case (class "hl", plus :target) and the figure nodes it names.
   - The condition list filters as you type. */
(function () {
  "use strict";

  function loadExample() {
    var button = document.getElementById("load-example");
    var example = document.getElementById("example-text");
    var box = document.getElementById("case-text");
    if (!button || !example || !box) return;
    button.addEventListener("click", function (ev) {
      ev.preventDefault();
      box.value = (example.content || example).textContent.trim();
      box.removeAttribute("aria-invalid");
      box.focus();
      box.setSelectionRange(0, 0);
      box.scrollTop = 0;
    });
  }

  function readLinks() {
    var data = document.getElementById("dxrx-links");
    if (!data) return null;
    try {
      return JSON.parse(data.textContent);
    } catch (e) {
      return null;
    }
  }

  /* Figure nodes whose name appears as whole words in the text. */
  function nodesNamedIn(links, text) {
    var hay = " " + text.toLowerCase().replace(/[^a-z0-9]+/g, " ") + " ";
    return Object.keys(links.nodes).filter(function (id) {
      var name = links.nodes[id].toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
      return name && hay.indexOf(" " + name + " ") >= 0;
    });
  }

  function evidence(links) {
    var chosen = null;

    function clear() {
      var lit = document.querySelectorAll(".hl, .hl-item");
      for (var i = 0; i < lit.length; i++) lit[i].classList.remove("hl", "hl-item");
    }

    /* Light the figure nodes; returns the first, scrolled into view inside a figure that
       scrolls sideways (on a phone) without moving the page. */
    function lightNodes(ids) {
      var first = null;
      ids.forEach(function (id) {
        var sel = 'svg [data-id="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]';
        var nodes = document.querySelectorAll(sel);
        for (var i = 0; i < nodes.length; i++) {
          nodes[i].classList.add("hl");
          first = first || nodes[i];
        }
      });
      var fig = first && first.closest("figure.anatomy");
      if (fig && fig.scrollWidth > fig.clientWidth) {
        var box = fig.getBoundingClientRect();
        var node = first.getBoundingClientRect();
        fig.scrollLeft += node.left + node.width / 2 - (box.left + box.width / 2);
      }
      return first;
    }

    /* Mark one passage (and the item that cited it); returns the element to show. */
    function show(anchor, item) {
      clear();
      if (item) item.classList.add("hl-item");
      chosen = item;
      var mark = anchor ? document.getElementById(anchor) : null;
      var ids = [];
      if (mark) {
        mark.classList.add("hl");
        ids = links.passages[anchor] || [];
      } else if (item) {
        ids = nodesNamedIn(links, item.textContent);
      }
      var node = lightNodes(ids);
      return mark || (node && node.closest("figure.anatomy"));
    }

    function go(anchor, item) {
      var target = show(anchor, item);
      if (!target) return;
      if (anchor && location.hash !== "#" + anchor) location.hash = anchor;
      target.scrollIntoView({ block: anchor ? "center" : "nearest" });
    }

    function itemOf(el) {
      return el.closest(".evidence li, li.flag, #treatment li, #red-flags li, table.findings tr");
    }

    document.addEventListener("click", function (ev) {
      var link = ev.target.closest("a");
      if (link && !link.classList.contains("src")) return; /* references etc. behave as links */
      var item = itemOf(ev.target);
      var src = link || (item && item.querySelector("a.src"));
      if (!src && !(item && item.matches(".evidence li"))) return;
      if (link) ev.preventDefault();
      go(src ? src.getAttribute("href").slice(1) : null, item);
    });

    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      var item = ev.target.closest && ev.target.closest(".evidence li");
      if (!item || ev.target !== item) return;
      ev.preventDefault();
      var src = item.querySelector("a.src");
      go(src ? src.getAttribute("href").slice(1) : null, item);
    });

    var items = document.querySelectorAll(".evidence li");
    for (var i = 0; i < items.length; i++) {
      items[i].tabIndex = 0;
      items[i].classList.add("clickable");
    }

    function fromHash() {
      var anchor = location.hash.slice(1);
      if (/^src-\d+$/.test(anchor)) {
        var mark = document.getElementById(anchor);
        if (mark && !mark.classList.contains("hl")) show(anchor, chosen);
      }
    }
    window.addEventListener("hashchange", fromHash);
    fromHash();
  }

  function filterList() {
    var input = document.querySelector("input[data-filter]");
    if (!input) return;
    var list = document.querySelector(input.getAttribute("data-filter"));
    var count = document.getElementById("kb-count");
    if (!list) return;
    var items = list.querySelectorAll("li[data-search]");
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      for (var i = 0; i < items.length; i++) {
        var text = items[i].getAttribute("data-search");
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        items[i].hidden = !ok;
        if (ok) shown++;
      }
      if (count) count.textContent = shown + " of " + items.length + " shown";
    });
  }

  function start() {
    loadExample();
    var links = readLinks();
    if (links) evidence(links);
    filterList();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
