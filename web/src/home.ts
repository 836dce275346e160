/** `/`: opens the sale whose id is typed in. */
const form = document.querySelector<HTMLFormElement>('#open-sale');
form?.addEventListener('submit', (event) => {
  event.preventDefault();
  const id = new FormData(form).get('saleId');
  if (typeof id === 'string' && id.trim()) window.location.assign(`/sales/${encodeURIComponent(id.trim().toLowerCase())}`);
});
