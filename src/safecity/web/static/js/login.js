import { api } from "./api.js";

const form = document.getElementById("login-form");
const err = document.getElementById("login-error");
form.addEventListener("submit", async (e) => {
  e.preventDefault();
  err.textContent = "";
  const body = { username: form.username.value.trim(), password: form.password.value };
  try {
    await api("/api/auth/login", { method: "POST", body });
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/wall";
  } catch (ex) {
    err.textContent = ex.message;
    form.password.value = "";
    form.password.focus();
  }
});
