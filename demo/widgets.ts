// The demo's /widgets page: the harder things to mirror (open shadow root, same-origin iframe,
// canvas, audio, CSSOM rules, adopted style sheets, an inner scroll box, selection, focus).

/** Body of the /widgets page (inside the shared layout). */
export const WIDGETS_BODY = `<h1>Widgets</h1>
<div id="shadow-host"></div>
<p><button id="shadow-add">Add inside shadow</button></p>
<iframe id="frame" src="/widgets/frame" title="A framed page" width="320" height="90"></iframe>
<p><canvas id="canvas" width="120" height="60"></canvas> <button id="draw">Draw</button></p>
<p><audio id="audio" src="/static/tone.wav" muted loop controls></audio></p>
<style id="dyn-style"></style>
<p class="dyn" id="dyn-text">Styled through the CSSOM</p>
<p><button id="add-rule">Add a rule</button> <button id="adopt">Change adopted sheet</button></p>
<p class="adopted" id="adopted-text">Styled by an adopted sheet</p>
<div id="inner-scroll" style="height:80px;overflow:auto;border:1px solid #ccc">${Array.from({ length: 30 }, (_, i) => `<p>Line ${i + 1}</p>`).join('')}</div>
<p id="selectable">Select this text</p>
<p><input id="focus-me" placeholder="Focus me"></p>
<div id="editor" contenteditable="true" style="border:1px solid #ccc;padding:4px">Edit me</div>`;

/** The page inside the iframe. */
export const FRAME_HTML = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Frame</title></head>
<body><p id="in-frame">Inside the frame</p><button id="frame-button">Change</button>
<script>document.getElementById('frame-button').addEventListener('click', function () { document.getElementById('in-frame').textContent = 'Changed inside the frame'; });</script>
</body></html>`;

/** Script of the /widgets page. */
export const WIDGETS_JS = `"use strict";
(function () {
  var host = document.getElementById("shadow-host");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = '<style>p { color: rgb(0, 0, 200); }</style><p id="in-shadow">Inside shadow</p><ul id="shadow-list"></ul>';
  document.getElementById("shadow-add").addEventListener("click", function () {
    var li = document.createElement("li");
    li.textContent = "Shadow item " + (root.getElementById("shadow-list").children.length + 1);
    root.getElementById("shadow-list").appendChild(li);
  });
  var ctx = document.getElementById("canvas").getContext("2d");
  ctx.fillStyle = "rgb(255, 0, 0)";
  ctx.fillRect(0, 0, 120, 60);
  document.getElementById("draw").addEventListener("click", function () {
    ctx.fillStyle = "rgb(0, 0, 255)";
    ctx.fillRect(0, 0, 60, 60);
  });
  document.getElementById("add-rule").addEventListener("click", function () {
    document.getElementById("dyn-style").sheet.insertRule(".dyn { color: rgb(200, 0, 0); }", 0);
  });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(".adopted { background-color: rgb(0, 128, 0); }");
  document.adoptedStyleSheets = [sheet];
  document.getElementById("adopt").addEventListener("click", function () {
    sheet.replaceSync(".adopted { background-color: rgb(255, 165, 0); }");
  });
})();
`;

/** A one-second 440 Hz tone as a 16-bit mono WAV. */
export function toneWav(): Buffer {
  const rate = 8000;
  const samples = rate;
  const buf = Buffer.alloc(44 + samples * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + samples * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), 44 + i * 2);
  return buf;
}
