// MathJax 2 configuration of the course site, read by MathJax.js (loaded next, from assets/vendor/mathjax/,
// which the build copies from the Python package jupyter-server-mathjax; see scripts/mkdocs_hooks.py).
//
// pymdownx.arithmatex (generic mode) leaves inline maths as \( ... \) and displayed maths as \[ ... \] inside
// elements of class "arithmatex"; MathJax typesets those and nothing else on the page. Output: HTML-CSS with the
// STIX-Web fonts that come with the site (no fonts installed on the reader's machine are used, nothing is fetched
// from the network). An inline formula wider than its column (on a phone) is broken over lines, at the points
// MathJax's automatic line breaking prefers (after a relation such as = or <=); a displayed equation is never
// broken by width: it scrolls sideways inside its own box (docs/assets/stylesheets/extra.css). No menu, no zoom, no "Loading..." messages; the hidden MathML copy for screen readers stays.
// A formula that MathJax cannot parse is reported in the browser's console and listed in the attribute
// data-math-errors of <body>, which the site's tests read.
window.MathJax = {
  jax: ["input/TeX", "output/HTML-CSS"],
  tex2jax: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: false,
    processRefs: false,
    ignoreClass: ".*",
    processClass: "arithmatex",
  },
  TeX: { extensions: ["AMSmath.js", "AMSsymbols.js"] },
  "HTML-CSS": {
    availableFonts: [],
    preferredFont: null,
    webFont: "STIX-Web",
    imageFont: null,
    linebreaks: { automatic: true, width: "container" },
    // MathJax measures text against a blank font whose source is url('about:blank'), which the browser refuses
    // (a console error on every page); a local() name that no machine has gives the same blank font quietly.
    styles: { "@font-face": { "font-family": "MathJax_Blank", src: "local('MathJax_Blank_None')" } },
  },
  showMathMenu: false,
  showMathMenuMSIE: false,
  menuSettings: { zoom: "None", CHTMLpreview: false },
  "fast-preview": { disabled: true },
  messageStyle: "none",
  AuthorInit: function () {
    var errors = [];
    function report(message) {
      errors.push(message);
      console.error("MathJax: " + message);
      if (document.body) { document.body.setAttribute("data-math-errors", JSON.stringify(errors)); }
    }
    MathJax.Hub.Register.MessageHook("TeX Jax - parse error", function (m) { report(String(m[1]) + " in " + String(m[2])); });
    MathJax.Hub.Register.MessageHook("Math Processing Error", function (m) { report(String(m[2] && m[2].message || m[2])); });
    // Automatic line breaking for inline formulas only: the top row of a displayed equation breaks only where
    // the source asks for a new line, and no row inside it (a cell of an aligned block, the contents of a \big
    // delimiter) is broken by width: MathJax 2 draws the sized and stretchy delimiters of a row it has measured
    // for breaking twice and out of place (seen on a phone's narrow column).
    MathJax.Hub.Register.StartupHook("HTML-CSS Jax Ready", function () {
      var mrow = MathJax.ElementJax.mml.mrow, byWidth = mrow.prototype.HTMLlineBreaks;
      mrow.Augment({
        HTMLlineBreaks: function (span) {
          var math = this.parent;
          while (math && math.type !== "math") { math = math.parent; }
          if (math && math.Get("display") === "block") { return this.parent === math ? this.hasNewline() : false; }
          return byWidth.call(this, span);
        },
      });
    });
  },
};

// Material's instant navigation (if turned on) swaps the page without reloading it: typeset the new content.
if (typeof document$ !== "undefined") {
  var vaekitFirstPage = true;
  document$.subscribe(function () {
    if (vaekitFirstPage) { vaekitFirstPage = false; return; }  // MathJax typesets the first page at startup
    if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Typeset", MathJax.Hub]); }
  });
}
