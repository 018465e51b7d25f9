// Render the maths that pymdownx.arithmatex (generic mode) leaves as \( ... \) and \[ ... \] inside
// elements of class "arithmatex", with the local copy of KaTeX (docs/assets/vendor/katex).
// `document$` is Material's page observable: it fires on the first load and after instant navigation.
(function () {
  function render(root) {
    if (typeof renderMathInElement !== "function") {
      return;
    }
    root.querySelectorAll(".arithmatex").forEach(function (el) {
      renderMathInElement(el, {
        delimiters: [
          { left: "\\(", right: "\\)", display: false },
          { left: "\\[", right: "\\]", display: true },
        ],
        throwOnError: false,
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () {
      render(document.body);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      render(document.body);
    });
  }
})();
