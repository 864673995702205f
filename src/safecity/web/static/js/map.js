// District map without a tile server (offline): gu and dong boundaries from /api/map/boundaries.
/* global L */
import { api } from "./api.js";

export async function districtMap(elId) {
  const map = L.map(elId, { zoomControl: true, attributionControl: true, preferCanvas: true, zoomSnap: 0.25 });
  map.attributionControl.setPrefix("Leaflet | boundaries: southkorea/seoul-maps (KOSTAT 2013)");
  const gj = await api("/api/map/boundaries?district=guro");
  const layer = L.geoJSON(gj, {
    style: (f) => f.properties.level === "gu"
      ? { color: "#58a6ff", weight: 2.5, fill: true, fillColor: "#112033", fillOpacity: 0.55 }
      : { color: "#3a4c63", weight: 1, fill: false, dashArray: "3 3" },
    onEachFeature: (f, l) => {
      if (f.properties.level === "dong") {
        l.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "dong" });
      }
    },
  }).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [10, 10] });
  return map;
}
