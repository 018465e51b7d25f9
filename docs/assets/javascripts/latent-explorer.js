// "Explore the latent space" (docs/explore.md): a trained VAE decoder run in the reader's browser.
//
// Each element <div class="latent-explorer" data-src=".../decoder.json"> becomes an explorer. decoder.json and
// decoder.bin are written by scripts/export_decoder.py (see vaekit/explorer.py): the decoder's layers
// (W of shape (fan_in, fan_out) row-major, b of shape (fan_out,)), the plane coordinates of the test codes and
// their labels, and the run that trained the weights. A point a of the plane is the code
// z = origin + a_1 u_1 + a_2 u_2 (with D_z = 2: z = a). The image shown is the continuous Bernoulli mean of
// the decoder's logits l = f(z), or eta = sigmoid(l).
//
// No framework, no network: everything is read from the site itself.
(function () {
  "use strict";

  // |l| below this uses the Taylor series of the mean, as cb_mean of Exercise T2.3 does.
  var TAYLOR_WINDOW = 1e-2;
  var STRIP_STEPS = 10; // images in an interpolation strip
  var PICK_RADIUS = 14; // CSS pixels: how near a click must be to a test code to pick it
  var SLIDER_STEPS = 400;

  // ---- the maths --------------------------------------------------------------------------------------

  // Continuous Bernoulli mean from the logit l:
  //   E[x] = eta / tanh(l/2) - 1/l  (|l| >= 1e-2),   E[x] ~ 1/2 + l/12 - l^3/720  (|l| < 1e-2),
  // with eta = sigmoid(l) = (1 + tanh(l/2)) / 2, which does not overflow for large |l|.
  function cbMean(l) {
    if (Math.abs(l) < TAYLOR_WINDOW) {
      return 0.5 + l / 12 - (l * l * l) / 720;
    }
    var t = Math.tanh(0.5 * l);
    return (0.5 * (1 + t)) / t - 1 / l;
  }

  function sigmoid(l) {
    return 0.5 * (1 + Math.tanh(0.5 * l));
  }

  // float16 bits -> number (sign, 5-bit exponent, 10-bit fraction; exponent 0 is subnormal, 31 is inf/NaN).
  function halfToNumber(h) {
    var sign = h & 0x8000 ? -1 : 1;
    var exp = (h >> 10) & 0x1f;
    var frac = h & 0x3ff;
    if (exp === 0) return sign * frac * Math.pow(2, -24);
    if (exp === 31) return frac ? NaN : sign * Infinity;
    return sign * (1 + frac / 1024) * Math.pow(2, exp - 15);
  }

  // The arrays of decoder.bin, by name, as described by the table of decoder.json (little-endian).
  function unpack(buffer, table) {
    var arrays = {};
    table.forEach(function (entry) {
      var n = entry.shape.reduce(function (a, b) { return a * b; }, 1);
      if (entry.offset + entry.nbytes > buffer.byteLength) {
        throw new Error("decoder.bin is shorter than decoder.json says (array " + entry.name + ")");
      }
      var a;
      if (entry.dtype === "float32") {
        a = new Float32Array(buffer, entry.offset, n);
      } else if (entry.dtype === "float16") {
        var bits = new Uint16Array(buffer, entry.offset, n);
        a = new Float32Array(n);
        for (var i = 0; i < n; i++) a[i] = halfToNumber(bits[i]);
      } else if (entry.dtype === "uint8") {
        a = new Uint8Array(buffer, entry.offset, n);
      } else {
        throw new Error("unknown dtype " + entry.dtype + " in decoder.json");
      }
      arrays[entry.name] = { data: a, shape: entry.shape };
    });
    return arrays;
  }

  // The decoder: h_0 = z, h_k = relu(h_{k-1} W_k + b_k), logits l = h_{L-1} W_L + b_L.
  // Sums are accumulated in float64 (Float64Array); the weights are the exported float32 (or float16) values.
  function Decoder(arrays) {
    this.layers = [];
    for (var k = 0; arrays["W" + k]; k++) {
      var W = arrays["W" + k];
      this.layers.push({ W: W.data, b: arrays["b" + k].data, fanIn: W.shape[0], fanOut: W.shape[1] });
    }
    this.zDim = this.layers[0].fanIn;
    this.xDim = this.layers[this.layers.length - 1].fanOut;
    this.buffers = this.layers.map(function (layer) { return new Float64Array(layer.fanOut); });
  }

  // Logits l (Float64Array of length D_x, reused between calls) of one code z (array of length D_z).
  Decoder.prototype.logits = function (z) {
    var h = z;
    for (var k = 0; k < this.layers.length; k++) {
      var layer = this.layers[k], W = layer.W, out = this.buffers[k], n = layer.fanOut;
      out.set(layer.b);
      for (var i = 0; i < layer.fanIn; i++) {
        var hi = h[i];
        if (hi === 0) continue; // a ReLU unit that is off adds nothing (about half of them)
        var row = i * n;
        for (var j = 0; j < n; j++) out[j] += hi * W[row + j];
      }
      if (k < this.layers.length - 1) {
        for (var j2 = 0; j2 < n; j2++) if (out[j2] < 0) out[j2] = 0;
      }
      h = out;
    }
    return h;
  };

  // {logits, mean, eta} of one code z, as plain arrays of length D_x.
  Decoder.prototype.decode = function (z) {
    var l = this.logits(z), n = l.length;
    var mean = new Array(n), eta = new Array(n), logits = new Array(n);
    for (var j = 0; j < n; j++) {
      logits[j] = l[j];
      mean[j] = cbMean(l[j]);
      eta[j] = sigmoid(l[j]);
    }
    return { logits: logits, mean: mean, eta: eta };
  };

  // ---- small DOM helpers -----------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function fmt(x, digits) {
    return (x < 0 ? "\u2212" : "") + Math.abs(x).toFixed(digits === undefined ? 2 : digits);
  }

  function grouped(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // ---- one explorer ----------------------------------------------------------------------------------------

  function Explorer(root, meta, arrays) {
    this.root = root;
    this.meta = meta;
    this.decoder = new Decoder(arrays);
    this.codes = arrays.codes.data; // (N, 2) plane coordinates, row-major
    this.labels = arrays.labels.data;
    this.n = arrays.labels.shape[0];
    // Two views of the plane, [x_min, x_max, y_min, y_max]: all the codes, and a square of half-width 4 around
    // the prior's centre.
    var c = meta.plane.prior_centre;
    this.views = [meta.plane.extent, [c[0] - 4, c[0] + 4, c[1] - 4, c[1] + 4]];
    this.extent = this.views[0];
    this.origin = meta.plane.origin;
    this.axes = meta.plane.axes;
    this.colours = meta.digit_colours;
    this.is2d = meta.model.z_dim === 2;
    this.names = this.is2d ? ["z\u2081", "z\u2082"] : ["a\u2081", "a\u2082"];
    this.side = meta.model.image_side;
    this.a = [(this.extent[0] + this.extent[1]) / 2, (this.extent[2] + this.extent[3]) / 2];
    this.showEta = false;
    this.picked = [];
    this.build();
    this.resize();
    this.setPoint(this.a);
    var self = this;
    window.addEventListener("resize", function () { self.resize(); });
  }

  // The code z (length D_z) of a point a of the plane: z = origin + a_1 u_1 + a_2 u_2.
  Explorer.prototype.toZ = function (a) {
    var z = new Array(this.origin.length);
    for (var d = 0; d < z.length; d++) z[d] = this.origin[d] + a[0] * this.axes[0][d] + a[1] * this.axes[1][d];
    return z;
  };

  Explorer.prototype.build = function () {
    var m = this.meta, self = this;
    this.root.textContent = "";
    var legend = el("div", { class: "lx-legend", "aria-hidden": "true" }, ["digit:"]);
    this.colours.forEach(function (colour, d) {
      legend.appendChild(el("span", { class: "lx-key" }, [
        el("span", { class: "lx-swatch", style: "background:" + colour }), String(d)]));
    });
    this.plane = el("canvas", {
      class: "lx-plane", tabindex: "0", role: "application",
      "aria-label": "Latent plane with the codes of " + grouped(this.n) + " test digits. Move the pointer, or " +
        "use the arrow keys (Shift: larger steps), to decode a point; click, or press Enter, to pick the nearest " +
        "test digit; pick two to see the interpolation between them; Escape clears the picks."
    });
    this.sliders = [0, 1].map(function (i) {
      var lo = self.extent[2 * i], hi = self.extent[2 * i + 1];
      var input = el("input", { type: "range", min: String(lo), max: String(hi),
        step: String((hi - lo) / SLIDER_STEPS),
        "aria-label": self.is2d ? self.names[i] : self.names[i] + ", along principal direction " + (i + 1) });
      input.addEventListener("input", function () {
        var a = self.a.slice();
        a[i] = parseFloat(input.value);
        self.setPoint(a);
      });
      return input;
    });
    var sliderBox = el("div", { class: "lx-sliders" }, this.sliders.map(function (input, i) {
      return el("label", {}, [el("span", { text: self.names[i] + (self.is2d ? "" : " along u" +
        ["\u2081", "\u2082"][i]) }), input]);
    }));
    this.image = el("canvas", { class: "lx-image", width: String(this.side), height: String(this.side),
      role: "img", "aria-label": "decoded image" });
    this.readout = el("p", { class: "lx-readout" });
    this.etaBox = el("input", { type: "checkbox" });
    this.etaBox.addEventListener("change", function () {
      self.showEta = self.etaBox.checked;
      self.setPoint(self.a);
      self.drawStrip();
    });
    var side = el("div", { class: "lx-side" }, [
      this.image, this.readout,
      el("label", { class: "lx-toggle" }, [this.etaBox, " show \u03b7 = sigmoid(l) instead of the mean"]),
      el("p", { class: "lx-why" }, [
        "\u03b7 is the parameter of the continuous Bernoulli, not its mean: the mean pulls every pixel towards " +
        "\u00bd (\u03b7 = 0.8 has mean 0.61), so \u03b7 looks sharper than what the model expects to see."])
    ]);
    this.strip = el("canvas", { class: "lx-strip", width: String(this.side * STRIP_STEPS),
      height: String(this.side), role: "img", "aria-label": "interpolation strip" });
    this.stripLabel = el("p", { class: "lx-strip-label", "aria-live": "polite" });
    this.zoom = el("button", { type: "button", class: "md-button lx-zoom", "aria-pressed": "false",
      text: "Zoom in on the prior\u2019s circles" });
    this.zoom.addEventListener("click", function () { self.setView(self.extent === self.views[0] ? 1 : 0); });
    this.clear = el("button", { type: "button", class: "md-button lx-clear", text: "Clear the picks" });
    this.clear.addEventListener("click", function () { self.picked = []; self.drawPlane(); self.drawStrip(); });
    this.root.appendChild(legend);
    this.root.appendChild(el("div", { class: "lx-main" }, [
      el("div", { class: "lx-plane-box" }, [this.plane, sliderBox, this.zoom]), side]));
    this.root.appendChild(el("div", { class: "lx-strip-box" }, [this.stripLabel, this.strip, this.clear]));
    this.stats = el("p", { class: "lx-stats" }, [this.priorShare()]);
    this.root.appendChild(this.stats);
    this.root.appendChild(this.runNote());
    this.bindPointer();
    this.bindKeys();
    this.drawStrip();
  };

  // How many test codes lie within 2 of the prior's centre on the plane (with D_z = 2: |z| < 2, a disc that
  // holds 1 - exp(-2) = 86 % of the prior's mass).
  Explorer.prototype.priorShare = function () {
    var c = this.meta.plane.prior_centre, inside = 0;
    for (var i = 0; i < this.n; i++) {
      var dx = this.codes[2 * i] - c[0], dy = this.codes[2 * i + 1] - c[1];
      if (dx * dx + dy * dy < 4) inside++;
    }
    this.inside = inside;
    var share = (100 * inside / this.n).toFixed(1) + " %";
    if (this.is2d) {
      return grouped(inside) + " of the " + grouped(this.n) + " test codes (" + share + ") lie inside the circle " +
        "of radius 2, where the prior puts 86 % of its mass.";
    }
    return grouped(inside) + " of the " + grouped(this.n) + " test codes (" + share + ") project inside the " +
      "circle of radius 2 around the prior's centre on this plane. The two principal directions carry " +
      (100 * this.meta.plane.explained[0]).toFixed(0) + " % and " + (100 * this.meta.plane.explained[1]).toFixed(0) +
      " % of the codes' variance; the other coordinates are held at their mean.";
  };

  // A paragraph saying which run produced the weights (from decoder.json).
  Explorer.prototype.runNote = function () {
    var r = this.meta.run, p = this.meta.precision;
    var text = "These weights: the " + (r.track === "pytorch" ? "PyTorch" : "NumPy/autograd") + " track (code: " +
      r.code + "), D_z = " + r.latent_dim + ", hidden layer" + (r.hidden.length > 1 ? "s " : " ") +
      r.hidden.join(", ") + ", epoch " + r.epoch + " of " + r.epochs + " on " + grouped(r.n_train) + " " +
      ({ mnist: "MNIST", "fashion-mnist": "Fashion-MNIST" }[r.dataset] || r.dataset) + " training images, minibatches of " + r.batch_size + ", Adam step " + r.lr + ", K = " +
      r.samples + ", seed " + r.seed + (r.max_batches ? ", " + r.max_batches + " minibatches per epoch" : "") + ".";
    if (r.test_elbo !== undefined && r.test_elbo !== null) {
      text += " Test ELBO " + r.test_elbo + " = log-likelihood " + r.test_log_lik + " \u2212 KL " + r.test_kl +
        " nats per image.";
    }
    text += " Weights stored in " + p.weights + " (" + grouped(this.meta.bytes) + " bytes with the codes)" +
      (p.max_abs_error.mean === 0 && p.max_abs_error.eta === 0 ? ", exactly those of the checkpoint" +
        (p.weights === "float32" && p.max_abs_error_float16 ? " (float16 would have moved the decoded pixels by " +
          "up to " + Math.max(p.max_abs_error_float16.mean, p.max_abs_error_float16.eta) + ")." : ".") :
        "; they change the decoded pixels by at most " + p.max_abs_error.mean + " from the checkpoint's decoder.");
    return el("p", { class: "lx-run" }, [text, el("br"), "Trained with ", el("code", { text: r.command }),
      "; exported with ", el("code", { text: this.meta.made_by || "scripts/export_decoder.py" }), "."]);
  };

  // Show view k of the plane (0: all the codes, 1: around the prior); the sliders follow.
  Explorer.prototype.setView = function (k) {
    this.extent = this.views[k];
    this.zoom.textContent = k === 0 ? "Zoom in on the prior\u2019s circles" : "Show all the codes";
    this.zoom.setAttribute("aria-pressed", k === 1 ? "true" : "false");
    var self = this;
    this.sliders.forEach(function (input, i) {
      var lo = self.extent[2 * i], hi = self.extent[2 * i + 1];
      input.min = String(lo);
      input.max = String(hi);
      input.step = String((hi - lo) / SLIDER_STEPS);
    });
    this.scatter = null;
    this.setPoint(k === 1 ? this.meta.plane.prior_centre : this.a);
  };

  Explorer.prototype.resize = function () {
    var size = Math.max(120, Math.floor(this.plane.getBoundingClientRect().width));
    var ratio = window.devicePixelRatio || 1;
    this.size = size;
    this.ratio = ratio;
    this.plane.width = Math.round(size * ratio);
    this.plane.height = Math.round(size * ratio);
    this.scatter = null; // redrawn at the new size
    this.drawPlane();
  };

  // Plane coordinates <-> CSS pixels of the plane canvas.
  Explorer.prototype.toPixel = function (a) {
    var e = this.extent;
    return [(a[0] - e[0]) / (e[1] - e[0]) * this.size, (e[3] - a[1]) / (e[3] - e[2]) * this.size];
  };

  Explorer.prototype.fromPixel = function (x, y) {
    var e = this.extent;
    return [e[0] + (x / this.size) * (e[1] - e[0]), e[3] - (y / this.size) * (e[3] - e[2])];
  };

  Explorer.prototype.clamp = function (a) {
    var e = this.extent;
    return [Math.min(e[1], Math.max(e[0], a[0])), Math.min(e[3], Math.max(e[2], a[1]))];
  };

  // The scatter and the prior's circles, drawn once per size into an offscreen canvas.
  Explorer.prototype.drawScatter = function () {
    var c = document.createElement("canvas");
    c.width = this.plane.width;
    c.height = this.plane.height;
    var g = c.getContext("2d");
    g.scale(this.ratio, this.ratio);
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, this.size, this.size);
    // The prior N(0, I) on the plane: circles of radius 1, 2 and 3 around its centre.
    var centre = this.toPixel(this.meta.plane.prior_centre);
    var unit = this.size / (this.extent[1] - this.extent[0]);
    g.fillStyle = "rgba(63, 81, 181, 0.08)";
    g.beginPath();
    g.arc(centre[0], centre[1], 2 * unit, 0, 2 * Math.PI);
    g.fill();
    g.strokeStyle = "rgba(63, 81, 181, 0.7)";
    g.setLineDash([4, 3]);
    [1, 2, 3].forEach(function (r) {
      g.beginPath();
      g.arc(centre[0], centre[1], r * unit, 0, 2 * Math.PI);
      g.stroke();
    });
    g.setLineDash([]);
    var radius = Math.max(1, this.size / 400);
    g.globalAlpha = 0.55;
    for (var i = 0; i < this.n; i++) {
      var p = this.toPixel([this.codes[2 * i], this.codes[2 * i + 1]]);
      g.fillStyle = this.colours[this.labels[i]];
      g.fillRect(p[0] - radius, p[1] - radius, 2 * radius, 2 * radius);
    }
    g.globalAlpha = 1;
    this.drawTicks(g);
    this.scatter = c;
  };

  // Tick labels along the bottom and left edges, at a round step.
  Explorer.prototype.drawTicks = function (g) {
    var e = this.extent, span = e[1] - e[0];
    var step = Math.pow(10, Math.floor(Math.log10(span / 4)));
    if (span / step > 12) step *= 5;
    else if (span / step > 6) step *= 2;
    g.fillStyle = "#555555";
    g.font = "11px sans-serif";
    g.strokeStyle = "rgba(0, 0, 0, 0.12)";
    for (var v = Math.ceil(e[0] / step) * step; v <= e[1]; v += step) {
      var x = this.toPixel([v, 0])[0];
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, this.size); g.stroke();
      g.fillText(fmt(v, 0), x + 2, this.size - 3);
    }
    for (var w = Math.ceil(e[2] / step) * step; w <= e[3]; w += step) {
      var y = this.toPixel([0, w])[1];
      g.beginPath(); g.moveTo(0, y); g.lineTo(this.size, y); g.stroke();
      g.fillText(fmt(w, 0), 2, y - 2);
    }
    g.fillText(this.names[0] + " \u2192", this.size - 34, this.size - 16);
    g.fillText(this.names[1] + " \u2191", 18, 12);
  };

  Explorer.prototype.drawPlane = function () {
    if (!this.scatter) this.drawScatter();
    var g = this.plane.getContext("2d");
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.drawImage(this.scatter, 0, 0);
    g.scale(this.ratio, this.ratio);
    var self = this;
    if (this.picked.length === 2) {
      var p0 = this.toPixel(this.codeAt(this.picked[0])), p1 = this.toPixel(this.codeAt(this.picked[1]));
      g.strokeStyle = "#000000";
      g.lineWidth = 2;
      g.beginPath(); g.moveTo(p0[0], p0[1]); g.lineTo(p1[0], p1[1]); g.stroke();
    }
    this.picked.forEach(function (i, k) {
      var p = self.toPixel(self.codeAt(i));
      g.fillStyle = self.colours[self.labels[i]];
      g.strokeStyle = "#000000";
      g.lineWidth = 2;
      g.beginPath(); g.arc(p[0], p[1], 6, 0, 2 * Math.PI); g.fill(); g.stroke();
      g.fillStyle = "#000000";
      g.font = "bold 12px sans-serif";
      g.fillText(k === 0 ? "A" : "B", p[0] + 8, p[1] - 6);
    });
    var c = this.toPixel(this.a);
    g.strokeStyle = "#000000";
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(c[0] - 9, c[1]); g.lineTo(c[0] + 9, c[1]);
    g.moveTo(c[0], c[1] - 9); g.lineTo(c[0], c[1] + 9);
    g.stroke();
    g.lineWidth = 1;
  };

  Explorer.prototype.codeAt = function (i) {
    return [this.codes[2 * i], this.codes[2 * i + 1]];
  };

  // Paint one decoded image (values in [0, 1], length side^2) into ctx at column `col` of a strip.
  Explorer.prototype.paint = function (ctx, values, col) {
    var s = this.side, img = ctx.createImageData(s, s);
    for (var j = 0; j < s * s; j++) {
      var v = Math.round(255 * Math.min(1, Math.max(0, values[j])));
      img.data[4 * j] = v; img.data[4 * j + 1] = v; img.data[4 * j + 2] = v; img.data[4 * j + 3] = 255;
    }
    ctx.putImageData(img, col * s, 0);
  };

  // Decode the point a of the plane and show it: the image, the readout, the cross-hair, the sliders.
  Explorer.prototype.setPoint = function (a) {
    this.a = this.clamp(a);
    var z = this.toZ(this.a);
    var out = this.decoder.decode(z);
    this.last = out;
    this.paint(this.image.getContext("2d"), this.showEta ? out.eta : out.mean, 0);
    var shown = this.is2d ? "z = (" + fmt(this.a[0]) + ", " + fmt(this.a[1]) + ")" :
      "a = (" + fmt(this.a[0]) + ", " + fmt(this.a[1]) + "), |z| = " +
      fmt(Math.sqrt(z.reduce(function (s, v) { return s + v * v; }, 0)));
    this.readout.textContent = shown + " \u2014 showing " + (this.showEta ? "\u03b7 = sigmoid(l)" :
      "the continuous Bernoulli mean");
    this.sliders[0].value = String(this.a[0]);
    this.sliders[1].value = String(this.a[1]);
    this.drawPlane();
  };

  // The test code nearest to the point a of the plane (index), optionally only within maxPixels.
  Explorer.prototype.nearest = function (a, maxPixels) {
    var p = this.toPixel(a), best = -1, bestD = Infinity;
    for (var i = 0; i < this.n; i++) {
      var q = this.toPixel(this.codeAt(i));
      var d = (q[0] - p[0]) * (q[0] - p[0]) + (q[1] - p[1]) * (q[1] - p[1]);
      if (d < bestD) { bestD = d; best = i; }
    }
    return maxPixels === undefined || bestD <= maxPixels * maxPixels ? best : -1;
  };

  Explorer.prototype.pick = function (i) {
    if (i < 0) {
      this.stripLabel.textContent = "No test digit there: click on a dot to pick its code.";
      return;
    }
    this.picked = this.picked.length >= 2 ? [i] : this.picked.concat([i]);
    this.setPoint(this.codeAt(i));
    this.drawStrip();
  };

  Explorer.prototype.drawStrip = function () {
    var g = this.strip.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, this.strip.width, this.strip.height);
    var self = this;
    var describe = function (i) { return "a " + self.labels[i] + " (test digit " + i + ")"; };
    if (this.picked.length < 2) {
      this.strip.classList.add("lx-empty");
      this.stripLabel.textContent = this.picked.length === 0 ?
        "Click two test digits (or press Enter twice) to see the images between their codes." :
        "Picked A: " + describe(this.picked[0]) + ". Now pick B.";
      return;
    }
    this.strip.classList.remove("lx-empty");
    var a = this.codeAt(this.picked[0]), b = this.codeAt(this.picked[1]);
    for (var k = 0; k < STRIP_STEPS; k++) {
      var t = k / (STRIP_STEPS - 1);
      var out = this.decoder.decode(this.toZ([(1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]]));
      this.paint(g, this.showEta ? out.eta : out.mean, k);
    }
    this.stripLabel.textContent = "From A, " + describe(this.picked[0]) + ", to B, " + describe(this.picked[1]) +
      ": " + STRIP_STEPS + " codes evenly spaced on the straight line between them" +
      (this.is2d ? "." : " (their projections on the plane).");
  };

  Explorer.prototype.bindPointer = function () {
    var self = this, plane = this.plane;
    function point(event) {
      var box = plane.getBoundingClientRect();
      return self.fromPixel(event.clientX - box.left, event.clientY - box.top);
    }
    plane.addEventListener("pointermove", function (event) {
      if (event.pointerType === "mouse" || event.buttons) self.setPoint(point(event));
    });
    plane.addEventListener("pointerdown", function (event) {
      self.setPoint(point(event));
    });
    plane.addEventListener("click", function (event) {
      self.pick(self.nearest(point(event), PICK_RADIUS));
    });
  };

  Explorer.prototype.bindKeys = function () {
    var self = this;
    this.plane.addEventListener("keydown", function (event) {
      var e = self.extent, step = ((e[1] - e[0]) / 100) * (event.shiftKey ? 10 : 1);
      var moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (moves[event.key]) {
        self.setPoint([self.a[0] + moves[event.key][0], self.a[1] + moves[event.key][1]]);
      } else if (event.key === "Enter" || event.key === " ") {
        self.pick(self.nearest(self.a));
      } else if (event.key === "Escape") {
        self.picked = [];
        self.drawPlane();
        self.drawStrip();
      } else {
        return;
      }
      event.preventDefault();
    });
  };

  // Milliseconds per decode of one code (the median of `rounds` rounds of `batch` decodes each), and per
  // full update (decode, image, readout and plane redrawn), for the page's own check of its speed.
  Explorer.prototype.benchmark = function (rounds, batch) {
    var self = this, e = this.extent;
    function median(f) {
      var times = [];
      for (var r = 0; r < rounds; r++) {
        var t0 = performance.now();
        for (var k = 0; k < batch; k++) f((r * batch + k) / (rounds * batch));
        times.push((performance.now() - t0) / batch);
      }
      times.sort(function (x, y) { return x - y; });
      return times[Math.floor(times.length / 2)];
    }
    var keep = this.a.slice();
    var point = function (t) { return [e[0] + t * (e[1] - e[0]), e[2] + (1 - t) * (e[3] - e[2])]; };
    var decode = median(function (t) { self.decoder.decode(self.toZ(point(t))); });
    var update = median(function (t) { self.setPoint(point(t)); });
    this.setPoint(keep);
    return { decode_ms: decode, update_ms: update };
  };

  // ---- start -----------------------------------------------------------------------------------------------

  function load(root) {
    if (root.getAttribute("data-started")) return;
    root.setAttribute("data-started", "1");
    var src = root.getAttribute("data-src");
    var status = el("p", { class: "lx-status", text: "Loading the decoder\u2026" });
    root.textContent = "";
    root.appendChild(status);
    var base = new URL(src, document.baseURI);
    fetch(base).then(function (r) {
      if (!r.ok) throw new Error(src + ": HTTP " + r.status);
      return r.json();
    }).then(function (meta) {
      return fetch(new URL(meta.file, base)).then(function (r) {
        if (!r.ok) throw new Error(meta.file + ": HTTP " + r.status);
        return r.arrayBuffer();
      }).then(function (buffer) {
        var explorer = new Explorer(root, meta, unpack(buffer, meta.arrays));
        window.latentExplorers = window.latentExplorers || {};
        window.latentExplorers[root.id] = explorer;
        root.setAttribute("data-ready", "1");
      });
    }).catch(function (err) {
      status.textContent = "The explorer could not load its decoder (" + err.message + "). Pages opened " +
        "straight from disk cannot read files: serve the site, e.g. with mkdocs serve.";
      root.setAttribute("data-error", err.message);
    });
  }

  function start() {
    document.querySelectorAll(".latent-explorer[data-src]").forEach(load);
  }

  // Exposed for the kit's browser tests of this page.
  window.LatentExplorer = { cbMean: cbMean, sigmoid: sigmoid, halfToNumber: halfToNumber };

  if (typeof document$ !== "undefined") {
    document$.subscribe(start);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
