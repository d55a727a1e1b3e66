/**
 * The chart's library and its stylesheet, a chunk of their own that the Gantt page loads once
 * its table is shown (`frappe-gantt` 1.2.2, MIT).
 */
import Gantt from "frappe-gantt";
import "./gantt-chart.css";

export default Gantt;
