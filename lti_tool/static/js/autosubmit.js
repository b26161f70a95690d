// Submit forms marked .autosubmit at once (the button stays for browsers without JavaScript).
document.querySelectorAll("form.autosubmit").forEach(function (form) { form.submit(); });
