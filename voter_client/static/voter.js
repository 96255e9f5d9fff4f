// Focus the error message so that screen readers and keyboard users land on it; send a
// form marked data-once only once (the cast button).
document.addEventListener("DOMContentLoaded", function () {
  var error = document.getElementById("error");
  if (error) {
    error.focus();
  }
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) {
        event.preventDefault();
      }
      form.dataset.sent = "1";
    });
  });
});
