// New evaluation: files dropped on the drop zone join the file input (so the plain form posts them),
// and the chosen files are listed. Without this script the file input works as it is.
(function () {
  "use strict";
  var zone = document.querySelector("[data-dropzone]");
  if (!zone || typeof DataTransfer === "undefined") return;
  var input = zone.querySelector("input[type=file]");
  var list = zone.querySelector("[data-chosen]");
  zone.classList.add("enhanced");

  function show() {
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (f) {
      var li = document.createElement("li");
      li.textContent = f.name + " (" + (f.size / 1048576).toFixed(1) + " MB)";
      list.appendChild(li);
    });
  }

  function add(files) {
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
    Array.prototype.forEach.call(files, function (f) { all.items.add(f); });
    input.files = all.files;
    show();
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) {
      e.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) {
      e.preventDefault();
      zone.classList.remove("over");
    });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) add(e.dataTransfer.files);
  });
  input.addEventListener("change", show);
})();
